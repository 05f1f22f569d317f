"""What a page may show in each language: no run of English words in Chinese outside the names that stay
English (paper titles, ImageNet class names; tokens with digits or underscores such as conv3_1 or vgg16,
single letters, formulas and code, and an English term given in full-width brackets after its Chinese),
and no Chinese in English."""

from __future__ import annotations

import functools
import re


@functools.cache
def imagenet_classes() -> tuple[str, ...]:
    """ImageNet's class names as torchvision ships them (English WordNet labels: they stay English)."""
    from torchvision.models import VGG11_Weights

    return tuple(VGG11_Weights.IMAGENET1K_V1.meta["categories"])


ALLOWED = ("Very Deep Convolutional Networks for Large-Scale Image Recognition",  # paper titles, cited as is
           "Sanity Checks for Saliency Maps", "et al", "Apple MPS")  # and a product's name


@functools.cache
def allowed_pattern() -> re.Pattern:
    names = sorted({*ALLOWED, *(c for c in imagenet_classes() if " " in c)}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names))


# A word: letters, with inner apostrophes or hyphens; tokens with digits or underscores (conv3_1, vgg16,
# fc8, FC-4096) are names, single letters are variables or configuration letters.
WORD = r"(?<![\w\-'’])[A-Za-z]{2,}(?:['’\-][A-Za-z]+)*(?![\w\-'’])"
RUN = re.compile(rf"{WORD}(?:[ \t]+{WORD})+")
CODE = re.compile(r"`[^`]*`|\$\$.*?\$\$", re.S)  # inline code and LaTeX: commands and formulas, not prose
GLOSS = re.compile(r"（[^（）\u3400-\u9fff]*）")  # 积分梯度（Integrated gradients）: the English term as a gloss
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def english_runs(text: str) -> list[str]:
    """Runs of two or more English words left in ``text`` once names and formulas are taken out."""
    return RUN.findall(allowed_pattern().sub(" ", GLOSS.sub(" ", CODE.sub(" ", text))))
