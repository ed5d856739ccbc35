"""Blender-side script: a BVH of `write_bvh` to FBX, run headless by `remodiffuse.export.fbx`.

`blender -b --factory-startup --python-exit-code 1 --python blender_fbx.py -- IN.bvh OUT.fbx`

It runs inside Blender's own Python (bpy; no numpy, no remodiffuse). The BVH is imported with
scale 0.01 (centimetres to metres), forward -Z and up Y (BVH's Y-up to Blender's Z-up), at the
file's frame rate, with the scene's frame range set to the clip. The FBX is written with the same
axes, baked on every frame of that range without curve simplification (the default simplification
moves joints by up to 0.8 cm), so importing it lands where importing the BVH does.
"""

import sys

import bpy

BVH_SCALE = 0.01  # write_bvh writes centimetres, Blender works in metres
AXIS_FORWARD, AXIS_UP = "-Z", "Y"
FIRST_FRAME = 1  # Blender frame of the first BVH frame


def _open_text(file, mode="r", *args, **kwargs):
    """`open` without the 'U' mode Blender 3.4's BVH importer asks for (refused by Python 3.11)."""
    return open(file, mode.replace("U", ""), *args, **kwargs)


def import_bvh(path: str) -> bpy.types.Object:
    """Import a BVH as an armature; the scene takes its frame rate and frame range."""
    from io_anim_bvh import import_bvh as importer

    importer.open = _open_text  # shadows the builtin in the importer's module only
    bpy.ops.import_anim.bvh(
        filepath=path,
        global_scale=BVH_SCALE,
        axis_forward=AXIS_FORWARD,
        axis_up=AXIS_UP,
        frame_start=FIRST_FRAME,
        update_scene_fps=True,
    )
    armature = bpy.context.view_layer.objects.active
    frames = len(armature.animation_data.action.fcurves[0].keyframe_points)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = FIRST_FRAME, FIRST_FRAME + frames - 1
    return armature


def export_fbx(path: str) -> None:
    """Write the scene's armatures and their animation over the scene's frame range as FBX."""
    bpy.ops.export_scene.fbx(
        filepath=path,
        object_types={"ARMATURE"},
        axis_forward=AXIS_FORWARD,
        axis_up=AXIS_UP,
        bake_anim=True,
        bake_anim_simplify_factor=0.0,
    )


def main(argv: list[str]) -> None:
    """Convert the BVH named after `--` to the FBX named after it."""
    bvh, fbx = argv[argv.index("--") + 1 :]
    import_bvh(bvh)
    export_fbx(fbx)


if __name__ == "__main__":
    main(sys.argv)
