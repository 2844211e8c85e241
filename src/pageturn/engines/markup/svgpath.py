"""The SVG paths of freehand marks: absolute M, L and C commands, as the viewer writes them."""
from __future__ import annotations

import re

_PATH_TOKEN = re.compile(r"[MLCmlcZz]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def path_commands(path: str) -> list[tuple[str, list[float]]]:
    """The commands of an SVG path of M, L, C and Z commands (as the viewer writes them), each with its numbers.
    ValueError when it is not such a path."""
    tokens = _PATH_TOKEN.findall(path)
    if "".join(tokens).replace(" ", "") == "" or len("".join(path.split())) > 4 * len("".join(tokens)) + 8:
        raise ValueError("not an SVG path")
    commands: list[tuple[str, list[float]]] = []
    for token in tokens:
        if token in "MLCmlcZz":
            commands.append((token, []))
        elif not commands:
            raise ValueError("numbers before a command")
        else:
            commands[-1][1].append(float(token))
    if not commands:
        raise ValueError("an empty path")
    for command, numbers in commands:
        step = 6 if command in "Cc" else 2
        if command not in "Zz" and (not numbers or len(numbers) % step):
            raise ValueError(f"{command} takes pairs of coordinates")
    if commands[0][0] not in "Mm":
        raise ValueError("a path starts with M")
    return commands


def path_points(path: str) -> list[list[tuple[float, float]]]:
    """The subpaths of such a path as point lists (curve control points included)."""
    subpaths: list[list[tuple[float, float]]] = []
    for command, numbers in path_commands(path):
        if command in "Mm":
            subpaths.append([])
        if command not in "Zz":
            subpaths[-1].extend((numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2))
    return subpaths
