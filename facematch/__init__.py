"""Face matching: dlib descriptors, FAISS galleries, calibrated thresholds, audited searches.

Public API (nothing here imports dlib or faiss until it is used):

- :class:`facematch.gallery.Gallery` -- ``analyse_probe``, ``search``, ``verify``, ``review``,
  ``enroll_photo``, ``enroll_faces``, ``remove_record``, ``rebuild``, ``save``, ``close``.
- :func:`facematch.enrol.enroll_records` -- enrol the photos records carry, in batches.
- :class:`facematch.pipeline.FacePipeline` -- ``detect`` (boxes only), ``analyse``
  (descriptors), ``describe_box``.
- :func:`facematch.batch.embed_files` -- many photos across processes, progress and cancel.
- :func:`facematch.reembed.reembed_gallery` -- re-embed a gallery in place with the current
  calibration's descriptors, keeping face ids, searches and reviews.
- :mod:`facematch.errors` -- :class:`~facematch.errors.FaceError` and its subclasses.

See docs/FACES.md.
"""
