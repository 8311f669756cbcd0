"""The dataset artifact: its format (from content and file name), its sha256, and the table it holds."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recipes.base import RecipeError

FORMATS = ("csv", "tsv", "jsonl", "parquet")
#: file name suffix -> format it names (after a trailing `.gz`)
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SNIFF_BYTES = 64 * 1024
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
#: read_json keeps JSON numbers and strings as they are (no guessing dates from column names); pandas 2 needs
#: convert_dates for that, pandas 3 deprecates it in favour of dtype=False alone.
_JSON_AS_IS: dict[str, bool] = {"dtype": False, **({"convert_dates": False} if pd.__version__ < "3" else {})}


@dataclass(frozen=True)
class Format:
    """How a dataset file is encoded."""

    name: str
    compression: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset artifact."""

    frame: pd.DataFrame
    format: Format
    sha256: str
    size_bytes: int


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _suffix_format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return SUFFIXES.get(suffixes[-1]) if suffixes else None


def detect_format(path: Path) -> Format:
    """The format of `path`: Parquet by its magic, JSON Lines by a leading `{`, else CSV or TSV.

    The file name decides between CSV and TSV when it says (`.csv`, `.tsv`); otherwise the header line does.

    Raises:
        RecipeError: the content is empty, binary, a JSON array, or contradicts a Parquet/JSONL file name.
    """
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    named = _suffix_format(path)
    if head.startswith(_PARQUET_MAGIC):
        return Format("parquet")
    if named == "parquet":
        raise RecipeError(f"{path.name} is named as Parquet but does not start with the Parquet magic bytes")
    compression = None
    if head.startswith(_GZIP_MAGIC):
        compression = "gzip"
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        except (OSError, EOFError) as exc:
            raise RecipeError(f"{path.name} looks gzip-compressed but cannot be decompressed ({exc})") from exc
    if b"\x00" in head:
        raise RecipeError("the file is binary but not Parquet; send CSV, TSV, JSON Lines or Parquet")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if not text:
        raise RecipeError("the file is empty")
    if text[0] == "[":
        raise RecipeError("a JSON array is not supported; send JSON Lines (one object per line)")
    if text[0] == "{":
        return Format("jsonl", compression)
    if named == "jsonl":
        raise RecipeError(f"{path.name} is named as JSON Lines but its first line is not a JSON object")
    if named in ("csv", "tsv"):
        return Format(named, compression)
    header = text.splitlines()[0]
    return Format("tsv" if header.count("\t") > header.count(",") else "csv", compression)


def _read_parquet(path: Path, row_limit: int | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    if row_limit is None:
        return parquet.read().to_pandas()
    batches, rows = [], 0
    for batch in parquet.iter_batches(batch_size=min(row_limit, 65_536)):
        batches.append(batch)
        rows += batch.num_rows
        if rows >= row_limit:
            break
    table = pa.Table.from_batches(batches, schema=parquet.schema_arrow)
    return table.slice(0, row_limit).to_pandas()


def read_frame(path: Path, fmt: Format, row_limit: int | None = None) -> pd.DataFrame:
    """The table in `path` (at most `row_limit` rows).

    Raises:
        RecipeError: the file cannot be parsed as `fmt`, or holds no rows.
    """
    try:
        if fmt.name == "parquet":
            frame = _read_parquet(path, row_limit)
        elif fmt.name == "jsonl":
            frame = pd.read_json(path, lines=True, nrows=row_limit, compression=fmt.compression, **_JSON_AS_IS)
        else:
            sep = "\t" if fmt.name == "tsv" else ","
            frame = pd.read_csv(path, sep=sep, nrows=row_limit, compression=fmt.compression, low_memory=False)
    except RecipeError:
        raise
    except Exception as exc:  # pandas and pyarrow raise many types; each means "not readable as fmt"
        raise RecipeError(f"cannot read the dataset as {fmt.name}: {type(exc).__name__}: {exc}") from exc
    if frame.empty:
        raise RecipeError(f"the dataset has no rows (read as {fmt.name})")
    frame.columns = [str(c) for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        raise RecipeError("the dataset has duplicate column names")
    return frame


def load_dataset(path: Path, row_limit: int | None = None) -> Dataset:
    """Detect, hash and read a dataset artifact.

    Raises:
        RecipeError: the file is missing, of no supported format, or unreadable.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RecipeError(f"the dataset artifact is not available: {exc}") from exc
    fmt = detect_format(path)
    return Dataset(read_frame(path, fmt, row_limit), fmt, sha256_file(path), size)
