"""Image pieces shared by plugins: decoding, decoded-image stacks and caches, batches, Grad-CAM, heatmap overlays.

- ``images``:  ``decode_image`` (file or bytes -> uint8 (H, W, C)), ``decode_stack`` (many -> uint8 (N, C, H, W)
  in memory, errors raised or skipped and counted), ``ImageStackCache`` (decoded stacks kept on disk).
- ``batches``: ``ImageBatchLoader`` (shuffled batches from the stack, per-sample torchvision v2 augmentation).
- ``gradcam``: ``GradCAM`` heatmaps of any convolutional classifier.
- ``overlay``: ``draw_overlay`` (heatmap over an image on a matplotlib axes), ``overlay_grid`` (a report figure).

Import the submodules directly; this package imports nothing heavy.
"""
