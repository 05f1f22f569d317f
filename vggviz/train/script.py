""""Show as code": a run's recipe as a short standalone ``train.py`` in the course's style (torchvision's
ImageFolder, transforms and VGG, the same optimiser, schedule and loop, the best epoch saved as a plain
state_dict with ``class_indices.json``), so a student can run the same training on a GPU at home.

Comments in the script are English: it is code, like the course's. It needs only torch and torchvision."""

from __future__ import annotations

import json

from ..architecture import configs
from ..i18n import Items
from ..photo import inference
from . import transforms as tfs
from .errors import TrainError
from .recipe import Recipe

TEMPLATE = '''"""train.py: train {model} on a folder of class folders, as vggviz's recipe below.

Written by vggviz (python -m vggviz train, or the Train page's "Show as code"). Needs torch and torchvision.
    python train.py --data-path {data_path}
The data: DATA/train/<class>/*.jpg and DATA/val/<class>/*.jpg (the course's flower_data), or DATA/<class>/*.jpg
(split here, {val_percent:g} % of each class for validation, seed {seed}).
Recipe: {recipe_json}
"""
import argparse
import json
import math
import os
import random

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, models, transforms

CLASSES = {classes!r}  # ImageFolder's order (sorted folder names)


def read_data(data_path, train_transform, val_transform):
    if os.path.isdir(os.path.join(data_path, "train")) and os.path.isdir(os.path.join(data_path, "val")):
        return (datasets.ImageFolder(os.path.join(data_path, "train"), transform=train_transform),
                datasets.ImageFolder(os.path.join(data_path, "val"), transform=val_transform))
    train_set = datasets.ImageFolder(data_path, transform=train_transform)
    val_set = datasets.ImageFolder(data_path, transform=val_transform)
    rng = random.Random({seed})
    train_idx, val_idx = [], []
    for label in range(len(train_set.classes)):
        idx = [i for i, (_, y) in enumerate(train_set.samples) if y == label]
        k = min(len(idx) - 1, max(1, int(len(idx) * {val_share}))) if len(idx) >= 2 and {val_share} > 0 else 0
        held = set(rng.sample(idx, k))
        train_idx += [i for i in idx if i not in held]
        val_idx += [i for i in idx if i in held]
    return Subset(train_set, train_idx), Subset(val_set, val_idx)


def create_model(num_classes):
    model = models.{tv_name}(num_classes=num_classes)  # torchvision's keys: vggviz and the course's model load it
{init_code}
    return model


def first_trained(model):
    """Index of the first layer of model.features that trains ({train})."""
{freeze_code}


def main(args):
    device = torch.device(args.device if torch.cuda.is_available() or args.device == "cpu" else "cpu")
    print("using {{}} device.".format(device))
    torch.manual_seed({seed})
    data_transform = {{
        "train": transforms.Compose([{train_transform}
                                     transforms.ToTensor(),
                                     transforms.Normalize({mean}, {std})]),
        "val": transforms.Compose([{val_transform}
                                   transforms.ToTensor(),
                                   transforms.Normalize({mean}, {std})])}}
    train_dataset, val_dataset = read_data(args.data_path, data_transform["train"], data_transform["val"])
    print("using {{}} images for training, {{}} images for validation.".format(len(train_dataset), len(val_dataset)))
    save_folder = os.path.dirname(args.save_path) or "."
    os.makedirs(save_folder, exist_ok=True)
    cla_dict = dict((i, name) for i, name in enumerate(CLASSES))
    with open(os.path.join(save_folder, "class_indices.json"), "w") as json_file:
        json_file.write(json.dumps(cla_dict, indent=4))

    train_loader = DataLoader(train_dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    val_loader = DataLoader(val_dataset, batch_size=args.batch_size, shuffle=False, num_workers=args.workers)

    model = create_model(len(CLASSES))
    start = first_trained(model)
    for i, layer in enumerate(model.features):
        for p in layer.parameters():
            p.requires_grad = i >= start
    model.to(device)
    loss_function = nn.CrossEntropyLoss()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = {optimizer_code}
    lf = {schedule_code}
    scheduler = optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)

    best_acc = 0.0
    for epoch in range(args.epochs):
        # train
        model.train()
        for layer in model.features[:start]:
            layer.eval()  # frozen layers (batch norm keeps its statistics)
        running_loss, seen = 0.0, 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = loss_function(model(images), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(labels)
            seen += len(labels)
        scheduler.step()

        # validate
        model.eval()
        acc = 0
        with torch.no_grad():
            for images, labels in val_loader:
                outputs = model(images.to(device))
                acc += (outputs.argmax(dim=1) == labels.to(device)).sum().item()
        val_acc = acc / max(len(val_dataset), 1)
        print("[epoch %d] train_loss: %.3f  val_accuracy: %.3f" % (epoch + 1, running_loss / max(seen, 1), val_acc))
        if val_acc > best_acc or epoch == 0:
            best_acc = val_acc
            torch.save(model.state_dict(), args.save_path)

    print("Finished Training")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-path", default={data_path!r})
    parser.add_argument("--epochs", type=int, default={epochs})
    parser.add_argument("--batch-size", type=int, default={batch})
    parser.add_argument("--save-path", default="./{config_name}Net.pth")
    parser.add_argument("--device", default="cuda:0", help="cuda:0 or cpu")
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 8))
    main(parser.parse_args())
'''

XAVIER = '''    for m in model.modules():  # the course's init_weights
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.constant_(m.bias, 0)'''

IMAGENET = '''    state = models.{weights}.IMAGENET1K_V1.get_state_dict(progress=True)  # ImageNet weights
    del state["classifier.6.weight"], state["classifier.6.bias"]  # a new last layer for our classes
    model.load_state_dict(state, strict=False)
    nn.init.xavier_uniform_(model.classifier[6].weight)
    nn.init.constant_(model.classifier[6].bias, 0)'''

FREEZE = {
    "head": "    return len(model.features)  # the features are frozen: only the classifier trains",
    "all": "    return 0  # everything trains",
    "last-block": ("    pools = [i for i, m in enumerate(model.features) if isinstance(m, nn.MaxPool2d)]\n"
                   "    return pools[-2] + 1  # the last conv block and the classifier train"),
}


def _weights_enum(tv_name: str) -> str:
    base, bn = tv_name.removesuffix("_bn"), tv_name.endswith("_bn")
    return f"VGG{base[3:]}{'_BN' if bn else ''}_Weights"


def data_folder(name: str) -> str:
    """The ``--data-path`` for data named ``name``: the script's ImageFolder reads a folder, so a zip's name
    without ``.zip`` (the folder a student unzips it into); a folder's name as it is."""
    return name[:-4] if name.lower().endswith(".zip") and len(name) > 4 else name


def as_code(recipe: Recipe, data_path: str, classes: list[str]) -> str:
    """The recipe as a standalone train.py (the data at ``data_path``, ``classes`` in ImageFolder's order).
    Raises TrainError for a configuration torchvision has no model for (C, A-LRN): the script builds torchvision's."""
    config = configs.resolve(recipe.config)
    tv_name = config.torchvision_name
    if tv_name is None:
        raise TrainError("no_torchvision", config=config.name, names=Items(configs.ALIASES))
    preprocess = tfs.preprocess_for(config, len(classes))
    mean, std = (tuple(round(v, 3) for v in t) for t in inference.mean_std(preprocess))
    size = recipe.size
    if preprocess == "lecture":
        val = f"transforms.Resize(({size}, {size})),"
    else:
        val = f"transforms.Resize({inference.imagenet_resize(size)}),\n{' ' * 35}transforms.CenterCrop({size}),"
    train = (f"transforms.RandomResizedCrop({size}),\n{' ' * 37}transforms.RandomHorizontalFlip(),"
             if recipe.augment else val.replace("\n" + " " * 35, "\n" + " " * 37))
    if recipe.optimizer == "adam":
        optimizer = f"optim.Adam(params, lr={recipe.lr:g}, weight_decay={recipe.weight_decay:g})"
    else:
        optimizer = (f"optim.SGD(params, lr={recipe.lr:g}, momentum={recipe.momentum:g}, "
                     f"weight_decay={recipe.weight_decay:g})")
    if recipe.schedule == "cosine":
        schedule = (f"lambda x: ((1 + math.cos(x * math.pi / args.epochs)) / 2) * (1 - {recipe.final_lr_fraction:g}) "
                    f"+ {recipe.final_lr_fraction:g}  # cosine")
    else:
        schedule = "lambda x: 1.0  # constant"
    init = IMAGENET.format(weights=_weights_enum(tv_name)) if recipe.init == "imagenet" else XAVIER
    return TEMPLATE.format(
        model=tv_name, data_path=data_path, val_percent=recipe.val_share * 100, seed=recipe.seed,
        recipe_json=json.dumps(recipe.record()), classes=list(classes), val_share=recipe.val_share, tv_name=tv_name,
        init_code=init, train=recipe.train, freeze_code=FREEZE[recipe.train], train_transform=train,
        val_transform=val, mean=mean, std=std, optimizer_code=optimizer, schedule_code=schedule,
        epochs=recipe.epochs, batch=recipe.batch, config_name=tv_name)
