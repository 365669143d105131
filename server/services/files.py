"""Evidence files (signatures, defect photos, floor plans) kept under the instance folder.

Every upload is checked before anything is stored: it must be an image Pillow can open, of an
allowed format, under the size limit. Photos are re-encoded (which drops EXIF, GPS included)
and scaled down; a file is named by its content hash and never overwritten. A `client_id`
(made on the tablet) makes a retried upload return the file it already stored.

A floor plan may also come as a page of a PDF (`pdf_page_png`): that page is rendered on the
server (pypdfium2, PDFium's wheels: no system library) to a PNG at most 2,400 px on its longest
side, then stored like any image plan, so the tablet, the pins and the forms see one PNG.
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from server.engine import Invalid, NotFound
from server.models import (
    Defect,
    DefectPhoto,
    InspectionResult,
    KeyHandover,
    StoredFile,
    UnitType,
    Visit,
    VisitDocument,
)

from .actor import Actor

MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
# kind -> (longest side in px after resizing, stored format)
KINDS = {
    "signature": (1200, "PNG"),
    "photo": (1600, "JPEG"),
    "floor_plan": (2400, "PNG"),
}
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}
MIME = {"PNG": "image/png", "JPEG": "image/jpeg"}


def _check_upload_size(data: bytes) -> None:
    if not data:
        raise Invalid("empty_file", "The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(
            "file_too_large",
            "The file is too large (at most %(mb)s MB).",
            mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        )


def _open_image(data: bytes) -> Image.Image:
    _check_upload_size(data)
    try:
        img = Image.open(io.BytesIO(data))
        if img.format not in ALLOWED_FORMATS:
            raise Invalid("not_an_image", "This file is not a picture (JPEG or PNG).")
        if img.width * img.height > MAX_PIXELS:
            raise Invalid("image_too_large", "The picture is too large.")
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise Invalid("not_an_image", "This file is not a picture (JPEG or PNG).") from None
    return img


MAX_PDF_PAGES = 200
PDF_RENDER_LONGEST = KINDS["floor_plan"][0]  # px on the rendered page's longest side
PDF_MAX_SCALE = 300 / 72  # never above 300 dpi (a small page is not blown up further)
_pdfium_lock = threading.Lock()  # PDFium is not thread-safe


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def pdf_page_png(data: bytes, page: int = 1) -> bytes:
    """One page (1-based) of a PDF rendered to PNG bytes. A damaged or password-protected
    PDF, too many pages or a page that does not exist is refused with a reason."""
    import pypdfium2 as pdfium

    _check_upload_size(data)
    with _pdfium_lock:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            if getattr(err, "err_code", None) == 4 or "password" in str(err).lower():
                raise Invalid(
                    "pdf_encrypted",
                    "This PDF is protected by a password: please upload a copy without one.",
                ) from None
            raise Invalid("bad_pdf", "This PDF cannot be read (damaged or not a PDF).") from None
        try:
            pages = len(doc)
            if pages < 1:
                raise Invalid("bad_pdf", "This PDF cannot be read (damaged or not a PDF).")
            if pages > MAX_PDF_PAGES:
                raise Invalid(
                    "pdf_too_many_pages",
                    "The PDF has too many pages (at most %(max)s).",
                    max=MAX_PDF_PAGES,
                )
            if page < 1 or page > pages:
                raise Invalid(
                    "pdf_no_such_page",
                    "The PDF has %(pages)s page(s): there is no page %(page)s.",
                    pages=pages,
                    page=page,
                )
            try:
                pdf_page = doc[page - 1]
                width, height = pdf_page.get_size()
                if min(width, height) < 1:
                    raise Invalid("bad_pdf", "This PDF cannot be read (damaged or not a PDF).")
                scale = min(PDF_RENDER_LONGEST / max(width, height), PDF_MAX_SCALE)
                image = pdf_page.render(scale=scale, fill_color=(255, 255, 255, 255)).to_pil()
            except pdfium.PdfiumError:
                raise Invalid(
                    "bad_pdf", "This PDF cannot be read (damaged or not a PDF)."
                ) from None
        finally:
            doc.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, "PNG")
    return out.getvalue()


def _normalise(img: Image.Image, kind: str) -> tuple[bytes, str, int, int]:
    longest, fmt = KINDS[kind]
    img = ImageOps.exif_transpose(img)  # keep what the camera meant, then drop the EXIF
    img.thumbnail((longest, longest))
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        if img.mode not in ("RGB", "RGBA", "L", "LA"):
            img = img.convert("RGBA")
        img.save(out, "PNG", optimize=True)
    return out.getvalue(), MIME[fmt], img.width, img.height


def check_image(data: bytes, kind: str = "floor_plan") -> str:
    """Refuses what `store_image` would refuse, storing nothing (an import's dry run); gives
    the SHA-256 the stored file would have (the same picture again changes nothing)."""
    content, _mime, _w, _h = _normalise(_open_image(data), kind)
    return hashlib.sha256(content).hexdigest()


def store_image(
    session: Session,
    instance_path: str | Path,
    data: bytes,
    *,
    kind: str,
    actor: Actor,
    client_id: str | None = None,
) -> StoredFile:
    """Validates, normalises and stores an image; flushes the row (the caller commits)."""
    if kind not in KINDS:
        raise Invalid("bad_file_kind", "Unknown kind of file.")
    if client_id:
        existing = session.scalar(select(StoredFile).where(StoredFile.client_id == client_id))
        if existing is not None:
            return existing
    content, mime, width, height = _normalise(_open_image(data), kind)
    digest = hashlib.sha256(content).hexdigest()
    ext = "png" if mime == "image/png" else "jpg"
    rel = Path("files") / kind / digest[:2] / f"{digest}.{ext}"
    path = Path(instance_path) / rel
    if not path.exists():  # same content, same name: never overwritten, never duplicated
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(path)
    row = StoredFile(
        kind=kind,
        path=rel.as_posix(),
        mime=mime,
        size=len(content),
        sha256=digest,
        width=width,
        height=height,
        client_id=client_id,
        staff_id=actor.staff_id,
        device_id=actor.device_id,
    )
    session.add(row)
    session.flush()
    return row


def file_path(instance_path: str | Path, stored: StoredFile) -> Path:
    return Path(instance_path) / stored.path


def url(file_id: int | None) -> str | None:
    """Where staff screens load a stored image (counter.inspect.stored_file)."""
    return f"/api/files/{file_id}" if file_id else None


def belongs_to_project(session: Session, stored: StoredFile, project_id: int) -> bool:
    """Whether the file is evidence of a visit of this project (a signature on a document,
    the key handover or the acceptance form; a defect photo) or one of its floor plans. A file
    nothing uses yet (an upload whose record has not arrived) is shown to nobody."""
    fid = stored.id
    in_project = Visit.project_id == project_id
    uses = union_all(
        select(VisitDocument.id)
        .join(Visit, Visit.id == VisitDocument.visit_id)
        .where(VisitDocument.signature_file_id == fid, in_project),
        select(KeyHandover.id)
        .join(Visit, Visit.id == KeyHandover.visit_id)
        .where(KeyHandover.signature_file_id == fid, in_project),
        select(InspectionResult.id)
        .join(Visit, Visit.id == InspectionResult.visit_id)
        .where(InspectionResult.signature_file_id == fid, in_project),
        select(DefectPhoto.id)
        .join(Defect, Defect.id == DefectPhoto.defect_id)
        .join(Visit, Visit.id == Defect.visit_id)
        .where(DefectPhoto.file_id == fid, in_project),
        select(UnitType.id).where(
            UnitType.floor_plan_file_id == fid, UnitType.project_id == project_id
        ),
    ).subquery()
    return session.scalar(select(uses.c[0]).limit(1)) is not None


def safe_path(instance_path: str | Path, stored: StoredFile) -> Path:
    """The file's path, refused unless it lies inside the instance's files folder (a path
    written into the row by anything else is never followed)."""
    root = (Path(instance_path) / "files").resolve()
    path = (Path(instance_path) / stored.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("unknown_file", "Unknown file.")
    return path
