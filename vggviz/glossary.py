"""The lecture's terms in Chinese and English, and where each appears in the app.

The Chinese terms are the slides' own (REFERENCE.md §9) and the English ones the paper's, so that a
student can read Simonyan & Zisserman, and the papers after it, with the words the lecture taught.
The catalogue (``vggviz/locale/zh_CN``) renders each English term with exactly its Chinese one
(``tests/test_terms.py``, with the app's other standardised words), and each term is on the page named
here, in both languages (``tests/test_pages_languages.py``). Torch-free, UI-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import N_


@dataclass(frozen=True)
class Term:
    zh: str  # as on the slides; shown as is in both languages
    en: str  # as in the paper; shown as is in both languages
    where: str  # N_-marked: where the app shows it, translated where shown
    page: str  # the page that shows it (pages/…), in both languages
    lecture: bool = True  # one of the slides' terms (REFERENCE.md §9); else a term of this app


TERMS: tuple[Term, ...] = (
    Term("感受野", "receptive field", N_("See a receptive field; Architecture (r column, chart)"),
         "pages/receptive_field.py"),
    Term("步距", "stride", N_("The lecture's arithmetic (top-down table); Architecture (caption)"),
         "pages/arithmetic.py"),
    Term("卷积核", "kernel", N_("The lecture's arithmetic (kernel size); Feature maps (conv1_1's kernels)"),
         "pages/arithmetic.py"),
    Term("特征图", "feature map", N_("Feature maps; Architecture (feature-map size chart)"),
         "pages/feature_maps.py"),
    Term("填充", "padding", N_("Architecture (caption); See a receptive field (grey: padding)"),
         "pages/architecture.py"),
    Term("最大池化", "max pooling", N_("Home; Architecture (caption)"), "pages/home.py"),
    Term("全连接层", "fully connected layer", N_("Home (the classifier)"), "pages/home.py"),
    Term("参数", "parameters", N_("Architecture, Compare configurations, The lecture's arithmetic"),
         "pages/architecture.py"),
    Term("通道", "channel", N_("Feature maps (channel selector)"), "pages/feature_maps.py"),
    Term("卷积层", "conv layer", N_("Attributions (conv layers of the strip); Home"), "pages/home.py"),
    Term("池化层", "pooling layer", N_("Home (five blocks separated by max pooling layers)"), "pages/home.py"),
    Term("深度", "depth", N_("Home (VGG's idea: increase the depth)"), "pages/home.py"),
    Term("定位任务", "localisation task", N_("Home (ILSVRC 2014 results)"), "pages/home.py"),
    Term("分类任务", "classification task", N_("Home (ILSVRC 2014 results)"), "pages/home.py"),
    Term("大尺度卷积核", "large kernel", N_("The lecture's arithmetic (one large 7×7 kernel)"),
         "pages/arithmetic.py"),
    Term("堆叠", "stacking", N_("The lecture's arithmetic (stacked 3×3 convs)"), "pages/arithmetic.py"),
    Term("等效步距", "effective stride (jump)", N_("See a receptive field; Architecture (jump column)"),
         "pages/receptive_field.py", lecture=False),
    Term("有效感受野", "effective receptive field",
         N_("See a receptive field (measured from gradients, on request)"), "pages/receptive_field.py", lecture=False),
    Term("乘加运算", "multiply-accumulates (MACs)", N_("Architecture; The lecture's arithmetic"),
         "pages/architecture.py", lecture=False),
    Term("预处理", "preprocessing", N_("Predict (how the photo is resized and normalised)"), "pages/predict.py",
         lecture=False),
    Term("归因", "attribution", N_("Attributions (which pixels made VGG say what it said)"), "pages/attributions.py",
         lecture=False),
    Term("合理性检验", "sanity check", N_("Attributions (weights randomised from fc8 down to conv1_1)"),
         "pages/attributions.py", lecture=False),
)
