"""The SVG paths of freehand marks: absolute M, L and C commands, as the viewer writes them."""
from __future__ import annotations

import re

_PATH_TOKEN = re.compile(r"[MLCmlcZz]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def path_points(path: str) -> list[list[tuple[float, float]]]:
    """The subpaths of an SVG path of M, L and C commands (absolute, as the viewer writes them) as point lists
    (curve control points included). ValueError when it is not such a path."""
    tokens = _PATH_TOKEN.findall(path)
    if "".join(tokens).replace(" ", "") == "" or len("".join(path.split())) > 4 * len("".join(tokens)) + 8:
        raise ValueError("not an SVG path")
    subpaths: list[list[tuple[float, float]]] = []
    command = None
    numbers: list[float] = []

    def flush() -> None:
        if command is None:
            if numbers:
                raise ValueError("numbers before a command")
            return
        step = 6 if command in "Cc" else 2
        if command not in "Zz" and (not numbers or len(numbers) % step):
            raise ValueError(f"{command} takes pairs of coordinates")
        if command in "Mm":
            subpaths.append([])
        if command in "Zz":
            return
        if not subpaths:
            raise ValueError("a path starts with M")
        subpaths[-1].extend((numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2))

    for token in tokens:
        if token in "MLCmlcZz":
            flush()
            command, numbers = token, []
        else:
            numbers.append(float(token))
    flush()
    if not subpaths:
        raise ValueError("an empty path")
    return subpaths
