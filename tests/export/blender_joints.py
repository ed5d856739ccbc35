"""Blender-side script of test_blender: import a BVH or FBX, dump world joint positions as JSON.

`blender -b --factory-startup --python-exit-code 1 --python blender_joints.py -- SCRIPT IN OUT`

A .bvh is imported by SCRIPT, the library's Blender-side `blender_fbx.py` (loaded by path:
Blender's Python has no remodiffuse), a .fbx by Blender's FBX importer with its defaults. Per
frame of the armature's action, OUT (JSON) holds every pose bone's head in world space and each
leaf bone's tail as "<bone>_end" (where the BVH's End Site is); also the action's frame range
and the scene's frame rate.
"""

import importlib.util
import json
import sys
from pathlib import Path

import bpy


def _load(script: str):
    """The library's Blender-side module, from its path."""
    spec = importlib.util.spec_from_file_location("blender_fbx", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_armature(script: str, path: str) -> bpy.types.Object:
    """The armature imported from a .bvh (by `script`) or .fbx file."""
    if path.endswith(".bvh"):
        return _load(script).import_bvh(path)
    bpy.ops.import_scene.fbx(filepath=path)
    (armature,) = [obj for obj in bpy.context.selected_objects if obj.type == "ARMATURE"]
    return armature


def world_joints(armature: bpy.types.Object, first: int, last: int) -> dict[str, list]:
    """Joint name -> per-frame world positions [[x, y, z], ...] over frames first..last."""
    scene = bpy.context.scene
    joints: dict[str, list] = {}
    for frame in range(first, last + 1):
        scene.frame_set(frame)
        for bone in armature.pose.bones:
            joints.setdefault(bone.name, []).append(list(armature.matrix_world @ bone.head))
            if not bone.children:
                tail = armature.matrix_world @ bone.tail
                joints.setdefault(f"{bone.name}_end", []).append(list(tail))
    return joints


def main(argv: list[str]) -> None:
    """Import the file named after `--` and dump its joints."""
    script, source, out = argv[argv.index("--") + 1 :]
    armature = import_armature(script, source)
    first, last = (round(frame) for frame in armature.animation_data.action.frame_range)
    render = bpy.context.scene.render
    dump = {
        "frame_range": [first, last],
        "fps": render.fps / render.fps_base,
        "joints": world_joints(armature, first, last),
    }
    Path(out).write_text(json.dumps(dump))


main(sys.argv)
