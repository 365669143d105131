"""Typed models, one module per area. Importing this package registers every table."""

from .audit import AuditLog
from .base import Base
from .evidence import (
    Defect,
    DocumentType,
    FeePayment,
    FeeType,
    InspectionResult,
    KeyHandover,
    KeyItemType,
    OwnerRequest,
    StandardResponse,
    UnitKeyItem,
    VisitDocument,
)
from .people import DEVICE_KINDS, ROLES, Device, Staff
from .plan import Counter, Step, counter_steps
from .project import Appointment, Building, Owner, Project, Unit, UnitOwner
from .visits import StepTransition, TicketCounter, Visit, VisitStep

__all__ = [
    "DEVICE_KINDS",
    "ROLES",
    "Appointment",
    "AuditLog",
    "Base",
    "Building",
    "Counter",
    "Defect",
    "Device",
    "DocumentType",
    "FeePayment",
    "FeeType",
    "InspectionResult",
    "KeyHandover",
    "KeyItemType",
    "Owner",
    "OwnerRequest",
    "Project",
    "Staff",
    "StandardResponse",
    "Step",
    "StepTransition",
    "TicketCounter",
    "Unit",
    "UnitKeyItem",
    "UnitOwner",
    "Visit",
    "VisitDocument",
    "VisitStep",
    "counter_steps",
]
from .printing import Printer, PrintJob

__all__ += ["PrintJob", "Printer"]
