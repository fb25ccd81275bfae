"""``images build | push`` and ``doctor``: container images through the docker SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import fail
from .builder import DEFAULT_FLAVOR, DEFAULT_REPOSITORY, DOCKERFILES, Flavor

FLAVORS = list(DOCKERFILES)
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout")]


def _parse_build_args(pairs: list[str]) -> dict[str, str]:
    args: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: write build arguments as KEY=VALUE")
        args[key] = value
    return args


def _echo(quiet: bool) -> Callable[[str], None] | None:
    return None if quiet else typer.echo


def register(app: typer.Typer, group: Callable[[str, str], typer.Typer]) -> None:
    images = group("images", "Build, tag and push container images (Docker or podman API)")

    @images.command("build")
    def build(
        flavor: Annotated[
            str, typer.Option(help=f"Which Dockerfile: {', '.join(FLAVORS)}")
        ] = DEFAULT_FLAVOR,
        repository: Annotated[
            str, typer.Option(help="Image repository (registry/name)")
        ] = DEFAULT_REPOSITORY,
        tag: Annotated[Optional[str], typer.Option(help="Tag (default: the version)")] = None,
        build_arg: Annotated[
            Optional[list[str]], typer.Option("--build-arg", help="KEY=VALUE, repeatable")
        ] = None,
        platform: Annotated[
            Optional[str], typer.Option(help="e.g. linux/arm64 (needs a multi-arch builder)")
        ] = None,
        network: Annotated[
            Optional[str], typer.Option(help="Build network mode, e.g. host")
        ] = None,
        context: Annotated[Path, typer.Option(help="Project root (build context)")] = Path("."),
        no_cache: Annotated[bool, typer.Option(help="Rebuild every layer")] = False,
        push: Annotated[bool, typer.Option(help="Push after building")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No build log")] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Build the image (and tag it repository:tag), optionally push it."""
        from .. import __version__
        from .builder import BuildSpec, ImageError, build_image, push_image

        spec = BuildSpec(
            context=context.resolve(),
            flavor=_flavor(flavor),
            repository=repository,
            tag=tag or __version__,
            build_args=_parse_build_args(build_arg or []),
            platform=platform,
            network_mode=network,
            no_cache=no_cache,
        )
        try:
            result = build_image(spec, progress=_echo(quiet or as_json))
            report: dict[str, object] = {
                "reference": result.reference,
                "image_id": result.image_id,
                "size": result.size_bytes,
                "seconds": round(result.seconds, 3),
            }
            if not as_json:
                typer.echo(
                    f"built {result.reference} ({result.size_bytes / 1e6:.0f} MB) "
                    f"in {result.seconds:.1f} s"
                )
            if push:
                name, _, image_tag = result.reference.rpartition(":")
                pushed = push_image(name, image_tag, progress=_echo(quiet or as_json))
                report["pushed"] = pushed.as_dict()
                if not as_json:
                    typer.echo(f"pushed {pushed.reference}")
        except ImageError as exc:
            raise fail(exc) from None
        if as_json:
            typer.echo(json.dumps(report))

    @images.command("push")
    def push(
        tag: Annotated[str, typer.Argument(help="Tag to push, e.g. 0.1.0 or 0.1.0-onnx")],
        repository: Annotated[
            str, typer.Option(help="Registry repository to push to (the build is tagged so)")
        ] = DEFAULT_REPOSITORY,
        source: Annotated[
            Optional[str],
            typer.Option(help=f"Local image to push (default: {DEFAULT_REPOSITORY}:TAG)"),
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No push log")] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Tag the local build as REPOSITORY:TAG and push it with the engine's stored login.

        Prints ``REPOSITORY@sha256:...``: deploy that digest (``--image-uri``) on every target.
        """
        from .builder import ImageError, publish

        try:
            pushed = publish(repository, tag, source=source, progress=_echo(quiet or as_json))
        except ImageError as exc:
            raise fail(exc) from None
        typer.echo(json.dumps(pushed.as_dict()) if as_json else f"pushed {pushed.reference}")

    @app.command()
    def doctor() -> None:
        """Check this host against the image: NVIDIA driver vs the CUDA minimum, engine."""
        from .builder import ImageError, client
        from .doctor import compare_driver, host_driver_version

        check = compare_driver(host_driver_version())
        typer.echo(f"{'ok' if check.ok else 'PROBLEM'}: {check.message}")
        try:
            version = client(timeout_s=10).version()
            typer.echo(f"ok: container engine {version.get('Version', '?')} answers")
        except ImageError as exc:
            typer.echo(f"note: {exc}")
        if not check.ok:
            raise typer.Exit(1)


def _flavor(name: str) -> Flavor:
    for flavor in DOCKERFILES:
        if flavor == name:
            return flavor
    raise typer.BadParameter(f"unknown flavor {name!r}; choose one of {FLAVORS}")
