"""Logical Data Structure (ICAO 9303-10): EF.COM, DG1, DG2 and EF.SOD, parsed and built.

Everything here reads data from a chip we do not trust yet: any shape we do not expect raises
``CardError(MALFORMED_DATA)`` and nothing else. The builders exist for the card emulator and tests.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from asn1crypto import algos, cms, core

from devices.card.errors import CardError, CardErrorReason
from devices.card.mrz import MrzData, parse_mrz
from devices.card.tlv import encode_constructed, encode_tlv, parse_single, parse_tlv_header

EF_CARD_ACCESS = 0x011C
EF_SOD = 0x011D
EF_COM = 0x011E
DG1 = 0x0101
DG2 = 0x0102

# The LDS tag of each data group's file (9303-10 table 4), used in EF.COM's tag list.
DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
TAG_TO_DG = {tag: number for number, tag in DG_TAGS.items()}
COM_TAG = 0x60
SOD_TAG = 0x77

LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"

FaceMime = Literal["image/jpeg", "image/jp2"]
_JPEG_MAGIC = b"\xff\xd8\xff"
_JP2_MAGICS = (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")
_FACE_FORMAT_ID = b"FAC\x00"
_FACE_VERSION = b"010\x00"
_FACIAL_RECORD_HEADER = 20  # ISO 19794-5 §5.5: block length … pose angle uncertainty
_IMAGE_INFORMATION = 12  # ISO 19794-5 §5.7
_FEATURE_POINT = 8
IMAGE_TYPE_CODES: dict[FaceMime, int] = {"image/jpeg": 0, "image/jp2": 1}


def _malformed(detail: str) -> CardError:
    return CardError(CardErrorReason.MALFORMED_DATA, detail)


def dg_file_id(number: int) -> int:
    """Short file id 01..10 in the eMRTD application: DG n lives in file 01nn."""
    if not 1 <= number <= 16:
        raise ValueError(f"no data group {number}")
    return 0x0100 + number


def read_length_from_header(first_bytes: bytes) -> int:
    """Total file length (tag + length + value) from the first bytes of an LDS file.

    Lets the reader fetch a file in blocks: read a few bytes, then exactly what remains.
    """
    header = parse_tlv_header(first_bytes)
    if header.tag not in (COM_TAG, SOD_TAG, *DG_TAGS.values()):
        raise _malformed(f"tag {header.tag:X} starts no LDS file")
    return header.total_length


# --- EF.COM ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComInfo:
    lds_version: str  # "0107" means 1.7
    unicode_version: str  # "040000"
    data_groups: tuple[int, ...]  # numbers of the data groups the document says it has


def parse_com(data: bytes) -> ComInfo:
    com = parse_single(data, COM_TAG)
    lds_version = com.require(0x5F01).value
    unicode_version = com.require(0x5F36).value
    tags = com.require(0x5C).value
    if any(tag not in TAG_TO_DG for tag in tags):
        raise _malformed("EF.COM lists an unknown data group tag")
    if not (lds_version.isascii() and unicode_version.isascii()):
        raise _malformed("EF.COM version is not ASCII")
    return ComInfo(lds_version.decode(), unicode_version.decode(), tuple(TAG_TO_DG[tag] for tag in tags))


def build_com(data_groups: list[int], lds_version: str = "0107", unicode_version: str = "040000") -> bytes:
    return encode_constructed(
        COM_TAG,
        encode_tlv(0x5F01, lds_version.encode()),
        encode_tlv(0x5F36, unicode_version.encode()),
        encode_tlv(0x5C, bytes(DG_TAGS[number] for number in data_groups)),
    )


# --- DG1 -----------------------------------------------------------------------------------------


def parse_dg1(data: bytes) -> MrzData:
    mrz = parse_single(data, DG_TAGS[1]).require(0x5F1F).value
    if not mrz.isascii():
        raise _malformed("DG1 MRZ is not ASCII")
    text = mrz.decode("ascii")
    if "\n" in text or "\r" in text:
        raise _malformed("DG1 MRZ contains line breaks")
    return parse_mrz(text)


def build_dg1(mrz_lines: str) -> bytes:
    """DG1 from the MRZ as printed (lines separated by newlines); DG1 stores it without breaks."""
    flat = "".join(mrz_lines.split())
    return encode_constructed(DG_TAGS[1], encode_tlv(0x5F1F, flat.encode("ascii")))


# --- DG2 -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaceImage:
    mime: FaceMime
    data: bytes = field(repr=False)
    width: int
    height: int


def parse_dg2(data: bytes) -> list[FaceImage]:
    """The face images of DG2: biometric templates (7F60) holding ISO 19794-5 records."""
    group = parse_single(data, DG_TAGS[2]).require(0x7F61)
    children = group.children()
    templates = [child for child in children if child.tag == 0x7F60]
    count = next((child.value for child in children if child.tag == 0x02), None)
    if count is None or len(count) != 1 or count[0] != len(templates):
        raise _malformed("DG2 template count does not match its templates")
    faces: list[FaceImage] = []
    for template in templates:
        block = template.find(0x5F2E) or template.find(0x7F2E)
        if block is None:
            raise _malformed("DG2 template without biometric data block")
        faces.extend(_parse_face_record(block.value))
    return faces


def _parse_face_record(block: bytes) -> list[FaceImage]:
    """ISO/IEC 19794-5:2005 facial record data: general header, then one record per face."""
    if len(block) < 14 or block[0:4] != _FACE_FORMAT_ID or block[4:8] != _FACE_VERSION:
        raise _malformed("DG2 biometric block is not an ISO 19794-5 face record")
    record_length, face_count = struct.unpack(">IH", block[8:14])
    if record_length != len(block) or face_count == 0:
        raise _malformed("DG2 face record length or count is wrong")
    offset, faces = 14, []
    for _ in range(face_count):
        face, offset = _parse_face(block, offset)
        faces.append(face)
    if offset != len(block):
        raise _malformed("DG2 face record has trailing bytes")
    return faces


def _parse_face(block: bytes, offset: int) -> tuple[FaceImage, int]:
    if offset + _FACIAL_RECORD_HEADER + _IMAGE_INFORMATION > len(block):
        raise _malformed("DG2 facial record header truncated")
    face_length, feature_points = struct.unpack(">IH", block[offset : offset + 6])
    end = offset + face_length
    image_info = offset + _FACIAL_RECORD_HEADER + feature_points * _FEATURE_POINT
    image_start = image_info + _IMAGE_INFORMATION
    if end > len(block) or image_start > end:
        raise _malformed("DG2 facial record length is wrong")
    image_type, width, height = struct.unpack(">xBHH", block[image_info : image_info + 6])
    image = block[image_start:end]
    mime = _image_mime(image)
    if IMAGE_TYPE_CODES[mime] != image_type:
        raise _malformed("DG2 image type does not match the image data")
    width, height = _image_size(image, width, height)
    return FaceImage(mime, image, width, height), end


def _image_mime(image: bytes) -> FaceMime:
    if image.startswith(_JPEG_MAGIC):
        return "image/jpeg"
    if image.startswith(_JP2_MAGICS):
        return "image/jp2"
    raise _malformed("DG2 image is neither JPEG nor JPEG 2000")


def _image_size(image: bytes, header_width: int, header_height: int) -> tuple[int, int]:
    """The image's own size as Pillow reads it from the image header; the record's if Pillow cannot.

    Only the header is decoded here; decoding the pixels is the UI's job.
    """
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as opened:
            return opened.size
    except Exception:  # noqa: BLE001  (Pillow raises many types on hostile chip data; the record's size stands)
        return header_width, header_height


def build_face_record(image: FaceImage) -> bytes:
    """One ISO 19794-5 face record: frontal, no feature points, unspecified attributes."""
    face_length = _FACIAL_RECORD_HEADER + _IMAGE_INFORMATION + len(image.data)
    header = struct.pack(">IHBBB3sH3s3s", face_length, 0, 0, 0, 0, b"\x00" * 3, 0, b"\x00" * 3, b"\x00" * 3)
    # Full frontal (1), JPEG/JP2, size, colour space 24-bit RGB (1), source: digital still (2).
    info = struct.pack(">BBHHBBHH", 1, IMAGE_TYPE_CODES[image.mime], image.width, image.height, 1, 2, 0, 0)
    return header + info + image.data


def build_dg2(images: list[FaceImage]) -> bytes:
    templates = []
    for image in images:
        record = build_face_record(image)
        block = _FACE_FORMAT_ID + _FACE_VERSION + struct.pack(">IH", 14 + len(record), 1) + record
        header = encode_constructed(
            0xA1,
            encode_tlv(0x80, b"\x01\x01"),  # CBEFF patron header version 1.1
            encode_tlv(0x81, b"\x02"),  # biometric type: face
            encode_tlv(0x87, b"\x01\x01"),  # format owner: ISO/IEC JTC 1/SC 37
            encode_tlv(0x88, b"\x00\x08"),  # format type: face image
        )
        templates.append(encode_constructed(0x7F60, header, encode_tlv(0x5F2E, block)))
    group = encode_constructed(0x7F61, encode_tlv(0x02, bytes((len(images),))), *templates)
    return encode_constructed(DG_TAGS[2], group)


# --- EF.SOD --------------------------------------------------------------------------------------


class DataGroupHash(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields: ClassVar = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields: ClassVar = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LdsSecurityObject(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """9303-10 §4.6.2.2: version 0 (V0) or 1 (V1, with the LDS version info)."""

    _fields: ClassVar = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True, slots=True)
class SecurityObject:
    """EF.SOD taken apart: the signed hashes, the CMS signer info and certificates, the raw content."""

    hash_algorithm: str  # "sha256" …
    data_group_hashes: dict[int, bytes]
    lds_version: str | None
    signed_data: cms.SignedData = field(repr=False)
    encapsulated_content: bytes = field(repr=False)  # the DER LDSSecurityObject that was signed

    @property
    def signer_info(self) -> cms.SignerInfo:
        return self.signed_data["signer_infos"][0]

    @property
    def certificates(self) -> list[cms.CertificateChoices]:
        certificates = self.signed_data["certificates"]
        return [] if certificates.native is None else list(certificates)


# asn1crypto parses lazily and signals bad input with these; nothing else escapes parse_sod.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


def parse_sod(data: bytes) -> SecurityObject:
    content_info_der = parse_single(data, SOD_TAG).value
    try:
        return _parse_signed_data(content_info_der)
    except CardError:
        raise
    except _ASN1_ERRORS as error:
        raise _malformed(f"EF.SOD is not a valid CMS SignedData ({type(error).__name__})") from error


def _parse_signed_data(der: bytes) -> SecurityObject:
    content_info = cms.ContentInfo.load(der, strict=True)
    if content_info["content_type"].native != "signed_data":
        raise _malformed("EF.SOD does not hold SignedData")
    signed_data: cms.SignedData = content_info["content"]
    signed_data.native  # parse everything now, so later access cannot fail  # noqa: B018
    if len(signed_data["signer_infos"]) != 1:
        raise _malformed("EF.SOD must have exactly one signer")
    encapsulated = signed_data["encap_content_info"]
    if encapsulated["content_type"].dotted != LDS_SECURITY_OBJECT_OID:
        raise _malformed("EF.SOD does not carry an LDS security object")
    content = encapsulated["content"]
    if content.native is None:
        raise _malformed("EF.SOD has no encapsulated content")
    content_der = bytes(content.contents)
    security_object = LdsSecurityObject.load(content_der, strict=True)
    hashes: dict[int, bytes] = {}
    for entry in security_object["data_group_hash_values"]:
        number = entry["data_group_number"].native
        if not 1 <= number <= 16 or number in hashes:
            raise _malformed("EF.SOD lists an impossible or repeated data group")
        hashes[number] = entry["data_group_hash_value"].native
    version_info = security_object["lds_version_info"]
    lds_version = None if version_info.native is None else version_info["lds_version"].native
    return SecurityObject(
        hash_algorithm=security_object["hash_algorithm"]["algorithm"].native,
        data_group_hashes=hashes,
        lds_version=lds_version,
        signed_data=signed_data,
        encapsulated_content=content_der,
    )


def build_lds_security_object(hash_algorithm: str, data_group_hashes: dict[int, bytes]) -> bytes:
    """The DER LDSSecurityObject (version 0) that a document signer signs."""
    security_object = LdsSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": hash_algorithm},
            "data_group_hash_values": [
                {"data_group_number": number, "data_group_hash_value": value}
                for number, value in sorted(data_group_hashes.items())
            ],
        }
    )
    der: bytes = security_object.dump()
    return der


def build_sod(content_info: cms.ContentInfo) -> bytes:
    """EF.SOD: the CMS ContentInfo (SignedData) inside the LDS tag 77."""
    return encode_tlv(SOD_TAG, content_info.dump())
