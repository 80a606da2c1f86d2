"""``superbrain faces``: enroll, detect, search, verify, review, evaluate, rebuild, reembed,
migrate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.cli_support import (
    ProgressPrinter,
    add_json_arg,
    add_workspace_arg,
    call_with_progress,
    cancel_on_sigint,
    emit,
    json_wanted,
    service_context,
)
from core.services import call
from facematch.index import KINDS


def _close(ctx: Any) -> None:
    from facematch.service import close_gallery

    close_gallery(ctx.workspace)  # saves pending index changes


# Each command calls one face service (facematch/service.py): the permission is checked for
# the authenticated session and the call audited there (failed searches too, with the reason).
def cmd_enroll(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    try:
        if args.photo:
            if not args.record_uid:
                print("error: --photo needs --record-uid", file=sys.stderr)
                return 2
            # stored absolute: `faces reembed` reads the photo again later, from anywhere
            ids = call(
                "faces.enrol",
                ctx,
                photo=str(args.photo.resolve()),
                record_uid=args.record_uid,
                entity_id=args.entity_id,
                label=args.label,
            )
            print(f"enrolled {len(ids)} face(s) from {args.photo} for {args.record_uid}")
            return 0
        printer = ProgressPrinter("[faces]")
        report = call(
            "faces.enrol_records",
            ctx,
            source=args.source,
            workers=args.workers,
            progress=printer,
            cancel=cancel_on_sigint(),
        )
        printer.done()
        for uid, _path, error in report.failures:
            print(f"  failed  {uid}: {error}", file=sys.stderr)
        from facematch.service import gallery_for

        print(f"{report.summary()}; gallery holds {len(gallery_for(ctx.workspace))} faces")
        return 130 if report.cancelled else (1 if report.failures else 0)
    finally:
        _close(ctx)


def cmd_detect(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    try:
        found = call("faces.detect", ctx, photo=str(args.photo))
    finally:
        _close(ctx)
    rows = [f.to_dict() for f in found.faces]
    emit(
        args,
        {"photo": str(args.photo), "sha256": found.sha256, "faces": rows},
        [f"{args.photo}: {found.width}x{found.height}, {len(rows)} face(s)"]
        + [
            f"  face {f.index}: box {f.box} size {f.size}px quality {f.quality:.2f}"
            + ("  (found by the CNN fallback)" if f.detector == "cnn" else "")
            for f in found.faces
        ],
    )
    return 0 if rows or json_wanted(args) else 1  # (--json: the list, even an empty one)


def _candidate_lines(result: Any) -> list[str]:
    lines = [
        f"search {result.search_id}  case {result.case}  gallery {result.gallery_size} "
        f"faces  threshold {result.threshold} (false-match rate "
        f"{result.threshold_fmr:.2g})"
    ]
    for face_result in result.faces:
        f = face_result.face
        lines.append(f"probe face {f.index} box {f.box} quality {f.quality:.2f}:")
        if not face_result.candidates:
            lines.append("  (no candidates)")
        for c in face_result.candidates:
            mark = "ABOVE" if c.above_threshold else "below"
            lines.append(
                f"  {c.rank:>2}. {c.similarity:.3f} {mark}  face {c.face_id}  "
                f"record {c.record_uid}  entity {c.entity_id or '-'}  "
                f"(FMR at this score {c.score_fmr:.2g})"
            )
    lines.append(result.notice)
    return lines


def cmd_search(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    try:
        result = call(
            "faces.search",
            ctx,
            probe=str(args.probe),
            case=args.case,
            purpose=args.purpose,
            k=args.k,
            faces=args.face or None,
        )
    finally:
        _close(ctx)
    return emit(args, result.to_dict(), _candidate_lines(result))


def cmd_verify(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    try:
        result = call(
            "faces.verify",
            ctx,
            photo_a=str(args.photo_a),
            photo_b=str(args.photo_b),
            case=args.case,
            purpose=args.purpose,
            face_a=args.face_a,
            face_b=args.face_b,
        )
    finally:
        _close(ctx)
    verdict = "ABOVE" if result.above_threshold else "below"
    return emit(
        args,
        result.to_dict(),
        [
            f"similarity {result.similarity:.3f}: {verdict} the threshold {result.threshold} "
            f"(false-match rate {result.threshold_fmr:.2g}; at this score "
            f"{result.score_fmr:.2g})  [verification {result.search_id}]",
            result.notice,
        ],
    )


def cmd_review(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    try:
        out = call(
            "faces.review",
            ctx,
            search_id=args.search_id,
            face_id=args.face_id,
            decision=args.decision,
            note=args.note or "",
        )
    finally:
        _close(ctx)
    print(
        f"review recorded: face {out['face_id']} {out['decision']} "
        f"(record {out['record_uid']}, search {out['search_id']})"
    )
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    ctx = service_context(args)
    try:
        out = call("faces.rebuild", ctx, kind=args.kind)
    finally:
        _close(ctx)
    print(f"face index rebuilt: {out['faces']} faces, {out['kind']}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    report = call_with_progress(
        "faces.migrate",
        service_context(args),
        "[faces migrate]",
        restart=args.restart,
        threads=args.threads,
    )
    lines = [f"{report.sent:,} faces sent to {report.target} (the gallery holds {report.total:,})"]
    if report.cancelled:
        lines.append("cancelled: the faces sent are kept; run the same command to resume")
    elif report.complete:
        lines.append(
            'done: set [faces] backend = "elasticsearch" in superbrain.toml to search the '
            "cluster index (enrolment then writes to it)"
        )
    emit(args, report.to_dict(), lines)
    return 130 if report.cancelled else 0


def _path_map(pairs: list[str] | None) -> list[tuple[str, str]]:
    from facematch.errors import FaceError

    out = []
    for pair in pairs or []:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise FaceError(f"--moved {pair!r}: expected OLD_FOLDER=NEW_FOLDER")
        out.append((old, new))
    return out


def cmd_reembed(args: argparse.Namespace) -> int:
    from facematch.errors import FaceError

    if not 0.0 < args.min_iou <= 1.0:
        raise FaceError(f"--min-iou {args.min_iou}: must be above 0 and at most 1")
    path_map = _path_map(args.moved)
    ctx = service_context(args)
    printer = ProgressPrinter.unless_json(args, "[faces]")
    report = call(
        "faces.reembed",
        ctx,
        path_map=path_map,
        min_iou=args.min_iou,
        workers=args.workers,
        check_only=args.check,
        progress=printer,
        cancel=cancel_on_sigint(),
    )
    if printer is not None:
        printer.done()
    notes = [f"  not re-embedded  {failure.describe()}" for failure in report.failures]
    if report.failures and not report.checked_only and not report.cancelled:
        notes.append(
            "faces not re-embedded keep their ids and links but are left out of "
            "searches; restore their photos (or use --moved OLD=NEW) and run "
            "`superbrain faces reembed` again"
        )
    emit(args, report.to_dict(), [report.summary()], notes)
    return 130 if report.cancelled else (1 if report.failures else 0)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from facematch.calibration import load_calibration, write_calibration
    from facematch.lfw import evaluate
    from facematch.pipeline import PipelineOptions

    printer = ProgressPrinter("[lfw]")
    shipped = load_calibration().pipeline_options()  # default: what the gallery uses
    options = PipelineOptions(
        num_jitters=shipped.num_jitters if args.jitters is None else args.jitters,
        views=args.views or shipped.views,
    )
    result = evaluate(
        args.lfw,
        options,
        args.cache,
        identification=args.identification,
        workers=args.workers,
        progress=printer,
        cancel=cancel_on_sigint(),
    )
    printer.done()
    out = result.to_dict()
    if args.write_calibration:
        write_calibration(result.calibration)
        out["calibration_written"] = True
    summary = {**out, "calibration": {k: v for k, v in result.calibration.items() if k != "table"}}
    e, c = result.euclidean, result.cosine
    cal = result.calibration
    lines = [
        f"LFW View 2, {result.images} images, pipeline: {out['options']['key']}",
        "  network run by: "
        + ", ".join(f"{engine} ({n:,} images)" for engine, n in result.engines.items()),
        f"  faces found only by the CNN fallback (HOG found none): {result.cnn_detections}; "
        f"detection failures (no detector found a face; described at the centre box): "
        f"{result.detection_failures}; images with several faces: "
        f"{result.multi_face_images}",
        f"  accuracy (euclidean, 10-fold): {100 * e.mean:.2f}% ± {100 * e.std:.2f}"
        f"  (mean threshold {out['verification_euclidean']['threshold_mean']})",
        f"  accuracy (cosine, 10-fold):    {100 * c.mean:.2f}% ± {100 * c.std:.2f}"
        f"  (mean threshold {out['verification_cosine']['threshold_mean']})",
        f"  accuracy at euclidean 0.6 (fixed): {100 * result.fixed_06_accuracy:.2f}%",
        f"  TAR at FAR=1e-3: {c.tar_at_far['0.001']:.4f} (cosine), "
        f"{e.tar_at_far['0.001']:.4f} (euclidean)",
    ]
    if result.rank1 is not None:
        lines.append(
            f"  rank-1 identification ({out['options']['identification']}): "
            f"{100 * result.rank1:.2f}% of {result.rank1_probes} probes"
        )
    lines += [
        f"  calibration: threshold {cal['threshold']} → FMR {cal['fmr']:.3g}, TAR "
        f"{cal['tar']:.4f} over {cal['impostor_pairs']:,} impostor / "
        f"{cal['genuine_pairs']:,} genuine pairs"
        + ("  [written]" if args.write_calibration else ""),
        f"  {result.seconds:.0f} s",
    ]
    return emit(args, summary, lines)


def register(subparsers: Any) -> None:
    """Add ``superbrain faces ...`` to the command line."""
    p = subparsers.add_parser(
        "faces",
        help="face gallery: enroll, search, verify, evaluate",
        description="Face matching. Searches and verifications need a "
        "case number and a purpose, are audited, and return "
        "leads for human review.",
    )
    sub = p.add_subparsers(dest="faces_cmd", required=True)

    q = sub.add_parser("enroll", help="enrol photos of stored records (or one photo)")
    add_workspace_arg(q)
    q.add_argument("--source", help="only records of this source")
    q.add_argument("--photo", type=Path, help="enrol this photo instead ...")
    q.add_argument("--record-uid", help="... for this record uid")
    q.add_argument("--entity-id", help="... linked to this entity id (e.g. person:330...)")
    q.add_argument("--label", help="... with this label")
    q.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    q.set_defaults(func=cmd_enroll)

    q = sub.add_parser("detect", help="list the faces found in a photo (no search; audited)")
    add_workspace_arg(q)
    q.add_argument("photo", type=Path)
    add_json_arg(q)
    q.set_defaults(func=cmd_detect)

    q = sub.add_parser("search", help="1:N search of a probe photo (audited)")
    add_workspace_arg(q)
    q.add_argument("probe", type=Path)
    q.add_argument("--case", required=True, help="case number (required)")
    q.add_argument("--purpose", required=True, help="why this search is made (required)")
    q.add_argument("-k", type=int, default=10, help="candidates per face (default 10)")
    q.add_argument(
        "--face",
        type=int,
        action="append",
        help="search only this probe face (repeatable; default: all)",
    )
    add_json_arg(q)
    q.set_defaults(func=cmd_search)

    q = sub.add_parser("verify", help="1:1 comparison of two photos (audited)")
    add_workspace_arg(q)
    q.add_argument("photo_a", type=Path)
    q.add_argument("photo_b", type=Path)
    q.add_argument("--case", required=True, help="case number (required)")
    q.add_argument("--purpose", required=True, help="why this check is made (required)")
    q.add_argument("--face-a", type=int, default=None, help="face of photo A (if several)")
    q.add_argument("--face-b", type=int, default=None, help="face of photo B (if several)")
    add_json_arg(q)
    q.set_defaults(func=cmd_verify)

    q = sub.add_parser("review", help="confirm or reject one candidate of a search (audited)")
    add_workspace_arg(q)
    q.add_argument("search_id")
    q.add_argument("face_id", type=int)
    q.add_argument("decision", choices=("confirmed", "rejected"))
    q.add_argument("--note", default="")
    q.set_defaults(func=cmd_review)

    q = sub.add_parser(
        "migrate",
        help="copy the face vectors into the cluster (Elasticsearch); resumable",
        description="Send every face vector of the gallery to its cluster index ([faces] "
        "index_prefix on the [search] url, or [faces] url) in face-id order: progress on "
        "stderr, Ctrl+C stops after the batch in flight and the same command resumes (faces "
        'enrolled since come along). Run it before setting [faces] backend = "elasticsearch". '
        "Needs the ingest permission.",
    )
    add_workspace_arg(q)
    add_json_arg(q)
    q.add_argument("--restart", action="store_true", help="send every face again")
    q.add_argument("--threads", type=int, default=2, help="parallel bulk connections (2)")
    q.set_defaults(func=cmd_migrate)

    q = sub.add_parser("rebuild", help="rebuild the face index from the gallery metadata")
    add_workspace_arg(q)
    q.add_argument(
        "--kind",
        choices=KINDS,
        default=None,
        help="index kind (default: the workspace setting, auto)",
    )
    q.set_defaults(func=cmd_rebuild)

    q = sub.add_parser(
        "reembed",
        help="re-compute every face's descriptor with the current "
        "calibration, keeping face ids, searches and reviews",
        description="Upgrade a gallery enrolled with another descriptor setting "
        "in place: each face is re-embedded from its original photo "
        "(checked by SHA-256) and keeps its id. Faces whose photo is "
        "missing or changed are reported and kept out of the index. "
        "Safe to interrupt: a rerun resumes.",
    )
    add_workspace_arg(q)
    q.add_argument(
        "--moved",
        action="append",
        metavar="OLD=NEW",
        help="photos enrolled under folder OLD are now under NEW (repeatable)",
    )
    q.add_argument(
        "--min-iou",
        type=float,
        default=0.5,
        help="least box overlap between an enrolled face and the face found again (default 0.5)",
    )
    q.add_argument(
        "--check",
        action="store_true",
        help="only report faces whose photo is missing or changed; change nothing",
    )
    q.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    add_json_arg(q)
    q.set_defaults(func=cmd_reembed)

    q = sub.add_parser("evaluate", help="LFW View 2 accuracy, rank-1, and calibration")
    q.add_argument("--lfw", type=Path, required=True, help="LFW folder with pairs.txt")
    q.add_argument(
        "--views",
        choices=("plain", "flip"),
        default=None,
        help="plain: one network pass per face; flip: the face and its mirror "
        "image, averaged (default: the shipped calibration's setting)",
    )
    q.add_argument(
        "--jitters",
        type=int,
        default=None,
        help="descriptor jitters (default: the shipped calibration's, 0)",
    )
    q.add_argument(
        "--cache",
        type=Path,
        default=Path(".cache/faces"),
        help="embedding cache folder (default .cache/faces)",
    )
    q.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    q.add_argument(
        "--identification",
        choices=("all", "pairs", "none"),
        default="all",
        help="rank-1 set: every person with >= 2 photos (all, default), only "
        "among the View 2 pair images (pairs), or none",
    )
    q.add_argument(
        "--write-calibration",
        action="store_true",
        help="write facematch/calibration.json from this run",
    )
    add_json_arg(q)
    q.set_defaults(func=cmd_evaluate)
