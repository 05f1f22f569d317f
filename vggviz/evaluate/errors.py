"""What can go wrong when evaluating a folder: errors that stop the evaluation, and the reasons a file is
skipped while the rest goes on. Both carry a code and parameters; the sentence is made where it is read."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, TranslatableError, _, ngettext

SHOWN = 4  # names quoted per kind of thing found


class EvaluationError(TranslatableError):
    """A folder, archive or class mapping that cannot be evaluated; nothing was run."""

    MESSAGES = {
        "not_found": N_("{path}: no such file or folder"),
        "not_zip": N_("{name} is not a readable zip archive"),
        "too_many_files": N_("{name} holds more than {limit} files; evaluate at most {limit} at a time"),
        "too_large": N_("{name} expands to more than {limit_mb} MB of files, the limit"),
        "bomb": N_("{name} was refused as a zip bomb: {member} expands {ratio:.0f} times (the limit is {limit})"),
        "unsafe_name": N_("{name} was refused: it holds {member}, a name that points outside the archive "
                          "(absolute, or with ..); nothing was read"),
        "no_class_folders": N_("{name} has no class folders: put the photos in one folder per class, such as "
                               "daisy/001.jpg. {found}"),
        "unmatched": N_("These class folders match no class of the model: {folders}. Its classes are named like "
                        "{examples}: rename the folders, or give the model's class_indices.json. {found}"),
        "ambiguous": N_("These class folders match more than one class of the model: {folders}; rename them"),
        "class_count": N_("The model's {classes} classes have no names, so the photos must be in {classes} class "
                          "folders (taken in sorted order). {found} Make one folder per class, or give the model's "
                          "class_indices.json so that folders map to classes by name."),
        "no_images": N_("{name} holds no photo that could be read ({skipped} files skipped)"),
        "cancelled": N_("The evaluation was cancelled"),
    }


class Skip(TranslatableError):
    """Why one file was left out; the evaluation goes on without it."""

    MESSAGES = {
        "symlink": N_("{file} is a symbolic link and was not followed"),
        "not_a_file": N_("{file} is not a regular file"),
        "nested_archive": N_("{file} is an archive inside the archive and was not opened"),
        "encrypted": N_("{file} is encrypted"),
        "too_large": N_("{file} is {size_mb:.1f} MB; photos above {limit_mb} MB are refused"),
        "outside_class": N_("{file} is not inside a class folder"),
        "empty_class": N_("The class folder {file} holds no files"),
        "unreadable": N_("{file} cannot be read ({reason})"),
    }


@dataclass(frozen=True)
class Skipped:
    """A file left out and why: a ``Skip`` or the decoder's ``ImageError``; ``str(reason)`` is the sentence."""

    file: str
    reason: Exception


@dataclass(frozen=True)
class Found:
    """What lay where the class folders were looked for (after any single leading folders), said in a refused
    layout's message: the folders, and the photos and other files beside them, a few names of each."""

    name: str  # the zip or folder
    root: str  # the leading folders gone through ("flower_data/val/"), "" for none
    folders: tuple[str, ...]
    photos: tuple[str, ...]  # files with a photo's suffix
    others: tuple[str, ...]  # any other file

    def __str__(self) -> str:
        place = _("{root} in {name}", root=self.root, name=self.name) if self.root else self.name
        folders = (ngettext("{n} folder ({names})", "{n} folders ({names})", len(self.folders),
                            names=_names([f"{f}/" for f in self.folders])) if self.folders else _("no folders"))
        photos = (ngettext("{n} photo ({names})", "{n} photos ({names})", len(self.photos), names=_names(self.photos))
                  if self.photos else _("no photos"))
        others = (ngettext("{n} other file ({names})", "{n} other files ({names})", len(self.others),
                           names=_names(self.others)) if self.others else _("no other files"))
        return _("{place} holds {folders}, {photos} and {others}.", place=place, folders=folders, photos=photos,
                 others=others)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _names(names) -> str:
    names = sorted(names)
    shown = _(", ").join(names[:SHOWN])
    return _("{names} and {n} more", names=shown, n=len(names) - SHOWN) if len(names) > SHOWN else shown
