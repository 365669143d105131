"""Typed models, one module per area. Importing this package registers every table."""

from .audit import AuditLog
from .base import Base
from .board import Notice
from .evidence import (
    ChecklistItem,
    Defect,
    DefectCategory,
    DefectPhoto,
    Department,
    DocumentType,
    FeePayment,
    FeeType,
    InspectionCheck,
    InspectionResult,
    InspectionRoom,
    KeyHandover,
    KeyHandoverItem,
    KeyItemType,
    KnownIssue,
    KnownIssueCheck,
    MeterReading,
    MeterType,
    OwnerAbsence,
    OwnerRequest,
    StandardResponse,
    StoredFile,
    UnitFee,
    UnitKeyItem,
    VisitDocument,
)
from .followup import CaseNote, FollowUpCase, LetterTemplate, UrgingLetter
from .inspection import InspectionSyncIssue
from .people import DEVICE_KINDS, ROLES, Device, Staff, StaffSession
from .plan import Counter, Step, counter_steps
from .project import Appointment, Building, Owner, Project, Unit, UnitOwner, UnitType
from .visits import StepTransition, TicketCounter, Visit, VisitStep

__all__ = [
    "DEVICE_KINDS",
    "ROLES",
    "Appointment",
    "AuditLog",
    "Base",
    "Building",
    "CaseNote",
    "ChecklistItem",
    "Counter",
    "Defect",
    "DefectCategory",
    "DefectPhoto",
    "Department",
    "Device",
    "DocumentType",
    "FeePayment",
    "FeeType",
    "FollowUpCase",
    "InspectionCheck",
    "InspectionResult",
    "InspectionRoom",
    "InspectionSyncIssue",
    "KeyHandover",
    "KeyHandoverItem",
    "KeyItemType",
    "KnownIssue",
    "KnownIssueCheck",
    "LetterTemplate",
    "MeterReading",
    "MeterType",
    "Notice",
    "Owner",
    "OwnerAbsence",
    "OwnerRequest",
    "Project",
    "Staff",
    "StaffSession",
    "StandardResponse",
    "Step",
    "StepTransition",
    "StoredFile",
    "TicketCounter",
    "Unit",
    "UnitFee",
    "UnitKeyItem",
    "UnitOwner",
    "UnitType",
    "UrgingLetter",
    "Visit",
    "VisitDocument",
    "VisitStep",
    "counter_steps",
]
from .printing import Printer, PrintJob

__all__ += ["PrintJob", "Printer"]
