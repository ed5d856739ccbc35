"""The HumanML3D / KIT-ML dataset layout on disk and the errors raised when it is broken."""

from dataclasses import dataclass
from pathlib import Path

from remodiffuse.errors import InputError

LAYOUT_TREE = """\
<root>/
  new_joint_vecs/<id>.npy      (T, D) float features of one motion
  texts/<id>.txt               one caption per line: caption#word/POS word/POS ...#start#end
  train.txt  val.txt  test.txt one motion id per line
  Mean.npy  Std.npy            (D,) normalisation statistics"""


class DatasetError(InputError):
    """Base class of every error about a dataset's files or contents."""


class DatasetLayoutError(DatasetError, FileNotFoundError):
    """A file or folder that the layout requires is missing."""


class DatasetContentError(DatasetError, ValueError):
    """The layout is complete but unusable (bad statistics, no items left after filtering)."""


@dataclass(frozen=True)
class DatasetLayout:
    """Paths of one dataset in the HumanML3D layout."""

    root: Path

    @property
    def motion_dir(self) -> Path:
        return self.root / "new_joint_vecs"

    @property
    def text_dir(self) -> Path:
        return self.root / "texts"

    @property
    def mean_path(self) -> Path:
        return self.root / "Mean.npy"

    @property
    def std_path(self) -> Path:
        return self.root / "Std.npy"

    def split_path(self, split: str) -> Path:
        return self.root / f"{split}.txt"

    def motion_path(self, motion_id: str) -> Path:
        return self.motion_dir / f"{motion_id}.npy"

    def text_path(self, motion_id: str) -> Path:
        return self.text_dir / f"{motion_id}.txt"

    def require(self, split: str) -> None:
        """Raise `DatasetLayoutError` naming the first missing path that `split` needs."""
        if not self.root.is_dir():
            raise _missing(self.root, "dataset root folder")
        for folder in (self.motion_dir, self.text_dir):
            if not folder.is_dir():
                raise _missing(folder, "folder")
        for path in (self.split_path(split), self.mean_path, self.std_path):
            if not path.is_file():
                raise _missing(path, "file")


def _missing(path: Path, what: str) -> DatasetLayoutError:
    return DatasetLayoutError(
        f"missing {what}: {path}\nexpected the HumanML3D layout:\n{LAYOUT_TREE}"
    )
