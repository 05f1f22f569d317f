"""What can go wrong when evaluating a folder: errors that stop the evaluation, and the reasons a file is
skipped while the rest goes on. Both carry a code and parameters; the sentence is made where it is read."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, TranslatableError


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
        "no_class_folders": N_("{name} has no class folders: put the photos in one folder per class, "
                               "such as daisy/001.jpg"),
        "unmatched": N_("These class folders match no class of the model: {folders}. Its classes are named like "
                        "{examples}: rename the folders, or give the model's class_indices.json"),
        "ambiguous": N_("These class folders match more than one class of the model: {folders}; rename them"),
        "class_count": N_("The model's {classes} classes have no names, but {name} has {folders} class folders: "
                          "give the model's class_indices.json so that folders map to classes by name"),
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
