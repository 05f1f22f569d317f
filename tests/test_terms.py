"""One Chinese rendering per concept across the catalogue, and none of the renderings a teacher corrected.

Wherever an entry's English says a term (the glossary's, and the words this catalogue standardised), its
Chinese says that term's Chinese; the few entries that may not are listed with their reason. Reads the
catalogue only (no app run)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel.messages.pofile import read_po

from vggviz import i18n
from vggviz.glossary import TERMS


@dataclass(frozen=True)
class Rendering:
    en: str  # a regex over the normalised English (lower case, hyphens as spaces), word-bounded here
    zh: str  # what the Chinese must then contain
    why: str = ""


FIELD = re.compile(r"(?<!%)\{[^{}]*\}")  # a {field}: its name is not text, its value a number or a name


def normalised(text: str) -> str:
    """Lower case, hyphens as spaces, and no {fields}."""
    return re.sub(r"[\s\-]+", " ", FIELD.sub(" ", text).lower().replace("’", "'"))


# The glossary's English as it occurs in sentences: its plural, and the other names the app gives it.
VARIANTS = {
    "effective stride (jump)": r"jump|effective strides?",
    "multiply accumulates (macs)": r"g?macs|multiply accumulates?",
    "stacking": r"stack(?:s|ed|ing)?",
    "effective receptive field": r"effective receptive fields?|erfs?",
    "sanity check": r"sanity checks?",
}
# Words this catalogue standardised beyond the glossary (terms of the app's own pages, or of one page).
STANDARDISED = (
    Rendering("lessons?", "逐步讲解", "the lesson page's name; 课程 is the lecture"),
    Rendering("slides?", "课件", "the lecture's slides, as the course calls them"),
    Rendering("lectures?", "课程", "the course the slides belong to"),
    Rendering("kernel sizes?", "卷积核尺寸", "the slides: 卷积核或池化核尺寸"),
    Rendering("(?<!per )blocks?", "卷积块", "a block of conv layers; the strip's own name says 逐块"),
    Rendering("strips?", "逐块条带图", "the per-block row of maps on the attributions page"),
    Rendering("mass", "梯度总量", "the ERF's mass is the summed gradient, not 质量"),
    Rendering("centred square", "居中", "居中的, never 以中心为中心"),
    Rendering("top down", "自上而下", "one of 自顶向下 and 自上而下; 自下而上 for bottom-up"),
    Rendering("auc", "AUC", "area under the curve, as AUC in the labels and the headers alike"),
    Rendering("layer methods?", "层归因方法", "captum's Layer* methods attribute at one chosen layer"),
    Rendering("symbolic link", "符号链接"),
    Rendering("(?:gpu|out of) memory", "显存", "the GPU's memory is 显存; 内存 is the computer's"),
    Rendering("not a number", "不是数字"),
    Rendering("original", "原始", "the model (or map) before any weight is randomised"),
    Rendering("^original$", "原始模型", "the sanity check's first stage: the model before any randomisation"),
    Rendering("squash", "拉伸", "resized to 224×224 ignoring the aspect ratio"),
    Rendering("table ([0-9])", r"表 \1", "the paper's tables, in Chinese as in the lecture"),
    # The page "What each channel looks for" (通道在找什么) and its engine (vggviz/learned/).
    Rendering("feature visuali[sz]ations?", "特征可视化", "Olah et al.'s optimised image of a channel"),
    Rendering("visuali[sz](?:e|es|ed|ing|ations?)", "可视化"),
    Rendering("class models?", "类别模型", "the image a class scores highest for; the method is 类别模型可视化"),
    Rendering("dataset examples?", "数据集样例", "the photos of a collection that excite a channel most"),
    Rendering("collections?", "照片集", "the photos dataset examples are drawn from"),
    Rendering("galler(?:y|ies)", "图库", "the stored optimised images (the folder) and a layer's grid of them"),
    Rendering("patch(?:es)?", "图块", "a crop of the input: a receptive field, or the window under a kernel"),
    Rendering("objectives?", "优化目标", "the quantity the optimisation maximises, and its value; never 目标值"),
    Rendering("optimis(?:e|es|ed|ing|ation)", "优化"),
    Rendering("diversity", "多样性", "Olah et al.'s diversity term"),
    Rendering("regularis(?:ers?|ed|ation)", "正则化"),
    Rendering("gradient ascent", "梯度上升"),
    Rendering("fourier", "傅里叶", "the Fourier-space image parameterisation"),
    Rendering("class ind(?:ex|ices)", "类别编号", "one of 类别编号 and 类别序号: 编号"),
    Rendering("seeds?", "种子", "a random seed: 种子 or 随机种子"),
    # The Train page and its engine (vggviz/train/, python -m vggviz train), the jobs queue, phones and projector.
    Rendering("epochs?", "轮", "one pass over the training photos: 第 N 轮, 训练轮数; epoch only as a gloss"),
    Rendering("heads?", "分类头", "the classifier head a run trains or replaces"),
    Rendering("fine tun(?:e|es|ed|ing)", "微调"),
    Rendering("from scratch", "从头训练"),
    Rendering("recipes?", "方案", "a run's settings as a whole: 训练方案"),
    Rendering("checkpoints?", "检查点"),
    Rendering("learning rates?", "学习率"),
    Rendering("(?:val|validation)(?!/)", "验证集", "the val split (验证集照片); val/ is a folder name"),
    Rendering("jobs?", "任务", "a training job on the server"),
    Rendering("queues?", "队列"),
    Rendering("projector mode", "投影模式"),
    Rendering("share with the class", "分享给全班"),
    Rendering("scan to join", "扫码加入"),
)
# (term regex, msgid): entries that may say the term otherwise, each with its reason.
EXCEPTIONS = {
    ("mass", "{samples} input(s) of {h}×{w}; the squares are centred on the receptive field's centre ({cy}, {cx}); "
             "a side may be fractional: each pixel counts as a unit square of even mass."):
        "a pixel's own gradient spread evenly over it (梯度均匀分布), not the total",
    ("original", "original image"): "the photo itself: 原图",
    ("lectures?", "default: what the weights expect (lecture for lecture checkpoints)"):
        "the command line's value lecture, and 课程检查点 for the checkpoints: the word is there twice",
    ("stride(?:s|es)?", "forget the “− 1” in F(i) = (F(i+1) − 1) × Stride + Ksize"):
        "Stride is a symbol of the slides' formula, quoted as written",
}


def renderings() -> list[Rendering]:
    found = []
    for term in TERMS:
        en = normalised(term.en)
        found.append(Rendering(VARIANTS.get(en, rf"{re.escape(en)}(?:s|es)?"), term.zh, "the glossary"))
    return found + list(STANDARDISED)


def entries() -> list[tuple[str, str]]:
    """(English, Chinese) for every entry and every plural form, from the Chinese catalogue."""
    with open(i18n.catalogue_path("zh"), "rb") as fh:
        cat = read_po(fh, locale=i18n.FOLDERS["zh"])
    out = []
    for m in cat:
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else m.id
        strings = (m.string,) if isinstance(m.string, str) else m.string
        out += [(ids[0], s) for s in strings] + [(i, s) for i in ids[1:] for s in strings]
    return out


def misrendered(pairs: list[tuple[str, str]]) -> list[str]:
    """The (English, Chinese) pairs whose Chinese lacks the rendering of a term their English says."""
    wrong = []
    for r in renderings():
        pattern = re.compile(rf"(?<![\w']){r.en}(?![\w])")
        for msgid, msgstr in pairs:
            found = pattern.search(normalised(msgid))
            if found and (r.en, msgid) not in EXCEPTIONS and found.expand(r.zh) not in msgstr:
                wrong.append(f"{r.en!r} -> {found.expand(r.zh)!r} ({r.why}): {msgid!r} = {msgstr!r}")
    return wrong


def test_each_term_has_one_chinese_rendering_across_the_catalogue():
    wrong = misrendered(entries())
    assert not wrong, f"{len(wrong)} entries render a term otherwise:\n" + "\n".join(wrong)


def test_the_exceptions_are_still_needed():
    used = {(r.en, m) for r in renderings() for m, _ in entries()
            if re.search(rf"(?<![\w']){r.en}(?![\w])", normalised(m))}
    assert set(EXCEPTIONS) <= used, set(EXCEPTIONS) - used


ELLIPSIS = "(?<!…)…(?!…)"
PERCENT = r"\s%(?!\{)|％"  # Plotly's %{x} is a field, not a per cent
NESTED = "（[^（）]*（"
ASCII_PUNCTUATION = r"[\u4e00-\u9fff][,;:?!]|[,;:?!] ?[\u4e00-\u9fff]"
X = r"(?<![A-Za-z0-9])(?:\d+|[HN])x(?:\d+|[WN])(?![A-Za-z0-9])"  # 3x3, HxW: ASCII x between sizes
# Chinese regex -> (an English regex the entry must match for it to count, or None for every entry; why).
FORBIDDEN = {
    "质量": (None, "the ERF's mass is 梯度总量; 质量 reads as quality or physical mass"),
    "以中心为中心": (None, "centred: 居中的"),
    "自顶向下": (None, "top-down is 自上而下"),
    "逐层": (r"Layer[A-Z]|layer method", "captum's Layer* methods work at one chosen layer, not layer by layer"),
    "乘加(?!运算)": (None, "MACs: 乘加运算 (量 for the amount, 次 for the count)"),
    "幻灯片": (None, "the slides are 课件"),
    "课程": (r"(?i)\blesson", "the lesson page is 逐步讲解"),
    "未跟随": (None, "a symbolic link that was not followed was not read"),
    "已达上限": (None, "a limit that was passed is 超过上限"),
    "内存": (r"GPU", "the GPU's memory is 显存"),
    "不是一个数": (None, "not a number: 不是数字"),
    ELLIPSIS: (None, "the Chinese ellipsis is ……"),
    PERCENT: (None, "no space before % in Chinese, and one per cent sign"),
    NESTED: (None, "brackets nested in brackets"),
    ASCII_PUNCTUATION: (None, "Chinese punctuation in Chinese text"),
    r"(?<![\w.])Table \d": (None, "the paper's tables are 表 1, 表 2 in Chinese"),
    "步长": (None, "stride is 步距, as the lecture says"),
    "卷积核大小": (None, "the lecture says 卷积核尺寸"),
    r"\bpx\b": (None, "pixels are 像素"),
    r"（(?:stride|padding|maxpool|channel|jump|start|size)）|\bsize 为|\bmaxpool\b|\bjump\b":
        (None, "the lecture's English words left inside a Chinese sentence"),
    "目标值": (None, "the optimisation's objective is 优化目标, its value too"),
    "推开": (None, "diversity's images are 彼此尽量不同, not pushed apart word for word"),
    r"\bet al\b": (None, "Olah 等, Simonyan 等人的: et al. is English"),
    "序号": (r"(?i)\bindex|\bindices", "a class index is 类别编号"),
    "验证照片|训练照片": (None, "the splits' photos: 验证集照片, 训练集照片 (验证照片 reads as photos that verify)"),
    "经不起": (None, "too small for five pools: 不够 VGG 做五次池化"),
}


def corrected(pairs: list[tuple[str, str]]) -> list[str]:
    """The (English, Chinese) pairs whose Chinese says a rendering a teacher corrected."""
    wrong = []
    for zh, (en, why) in FORBIDDEN.items():
        for msgid, msgstr in pairs:
            if re.search(zh, FIELD.sub("0", msgstr)) and (en is None or re.search(en, msgid)):
                wrong.append(f"{zh!r} ({why}): {msgid!r} = {msgstr!r}")
    return wrong


def test_no_rendering_a_teacher_corrected():
    wrong = corrected(entries())
    assert not wrong, f"{len(wrong)} entries:\n" + "\n".join(wrong)


def test_ascii_x_only_where_the_english_types_it():
    """3×3 in prose; 320x240 and HxW stay as typed where the English asks the reader to type them."""
    wrong = [(m, s) for m, s in entries() for t in re.findall(X, s) if t not in m]
    assert not wrong, wrong


def test_the_checks_catch_what_they_look_for():
    block = next(r.en for r in STANDARDISED if r.zh == "卷积块")
    assert re.search(block, "what each block looks at") and not re.search(block, "the per block strip")
    assert re.search(ELLIPSIS, "正在加载…") and not re.search(ELLIPSIS, "正在加载……")
    assert re.search(PERCENT, "50 %") and not re.search(PERCENT, "第 %{y} 行，50%")
    assert re.search(NESTED, "（输入（C）数）") and not re.search(NESTED, "（C）（D）")
    assert re.search(ASCII_PUNCTUATION, "卷积层, 步距") and not re.search(ASCII_PUNCTUATION, "{names}, {aliases}")
    assert re.findall(X, "堆叠3x3的卷积核，HxW") == ["3x3", "HxW"] and not re.findall(X, "0x1f, max3")
    assert normalised("per-block {blocks} Jump") == "per block jump"


# The terms of "What each channel looks for", each in an entry with a rendering a reader would correct: every
# one must be caught (by the one-rendering check, or by the forbidden renderings where it names them).
WRONG_LEARNED = [
    ("Feature visualisation", "特征可视性"),
    ("the channel to visualise", "要显示的通道"),
    ("Class model visualisation", "分类模型视图"),
    ("Dataset examples", "数据集示例"),
    ("Collection", "集合"),
    ("Layer gallery: the first channels of {layer}", "层画廊：{layer} 的前几个通道"),
    ("patches and index.json written to {path}", "补丁和 index.json 已写入 {path}"),
    ("objective", "目标"),
    ("step {step} of {total}, objective {value:.3g}", "第 {step} 步，共 {total} 步，目标值 {value:.3g}"),
    ("Optimising the image…", "正在调优图像……"),
    ("Diversity: {n} images pushed apart", "多元性：{n} 张图像"),
    ("the regularisers of feature visualisation", "特征可视化的正规化"),
    ("climbs the gradient by gradient ascent", "做梯度爬升"),
    ("Fourier and transforms", "傅立叶和变换"),
    ("give a class index 0…{last}", "请给出类别序号 0～{last}"),
    ("Seed", "随机数"),
]


def test_each_learned_term_fails_when_rendered_otherwise():
    missed = [(en, zh) for en, zh in WRONG_LEARNED if not misrendered([(en, zh)]) and not corrected([(en, zh)])]
    assert not missed, missed
    assert corrected([("{what}: step {step} of {total}, objective {value:.4g}", "优化目标 1，目标值 2")])
    assert corrected([("4 images per channel pushed apart (Olah et al.'s diversity term)",
                       "4 张图像，彼此推开（Olah et al. 的多样性项）")])
    assert corrected([("a class (its index or name)", "一个类别（序号或名称）")])
    assert not corrected([("pixel order", "按像素序号")])  # 序号 of something that is not an index: allowed


# The terms of the Train page, its jobs, phones and projector mode, each in an entry with a rendering a reader
# would correct: every one must be caught.
WRONG_TRAIN = [
    ("Epochs", "训练次数"),
    ("the new head only", "只训练新的头部"),
    ("fine-tune from ImageNet", "从 ImageNet 精调"),
    ("the course's train.py (from scratch)", "课程的 train.py（从零开始）"),
    ("The two recipes of the course", "课程中的两种配方"),
    ("Checkpoint name", "存档名称"),
    ("Learning rate", "学习速率"),
    ("Val photos", "验证照片"),
    ("{n} training photo", "{n} 张训练照片"),
    ("Share of each class held out for validation", "每个类别留作验证的比例"),
    ("The job was cancelled.", "作业已取消。"),
    ("number {position} in this server's queue", "在此服务器上排第 {position} 位"),
    ("Projector mode", "演示模式"),
    ("Share with the class: scan to join", "与全班共享：扫描加入"),
    ("input size {size} is too small for VGG's five pools", "输入尺寸 {size} 太小，经不起五次池化"),
]


def test_each_train_term_fails_when_rendered_otherwise():
    missed = [(en, zh) for en, zh in WRONG_TRAIN if not misrendered([(en, zh)]) and not corrected([(en, zh)])]
    assert not missed, missed
    assert not misrendered([("train/ and val/ as given", "按原有的 train/ 和 val/ 划分")])  # val/: a folder's name
