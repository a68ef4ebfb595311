"""The ONNX Runtime Web files the live page (:mod:`~.web`) runs its model with: pinned, found, checked.

The package does not ship them (14 MB of WebAssembly): :func:`find_runtime` takes them, in this order, from

1. ``runtime``: the package's tarball as ``npm pack onnxruntime-web@1.30.0`` writes it
   (``onnxruntime-web-1.30.0.tgz``, checked against :data:`INTEGRITY`), or that tarball unpacked;
2. the cache, :func:`cache_dir` (``$XDG_CACHE_HOME``, else ``~/.cache``, ``/asteroid-deepmask/onnxruntime-web-1.30.0``);
3. ``npm pack`` run into the cache when the ``npm`` client is on the ``PATH``.

``python -m asteroid_deepmask.deployment.web_runtime`` fills the cache (``scripts/setup.sh`` runs it
where ``npm`` is installed), so that later builds need no network.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

from ..utils.errors import SetupError

PACKAGE, VERSION = "onnxruntime-web", "1.30.0"
#: ``npm view onnxruntime-web@1.30.0 dist.integrity``: the sha512 of the tarball the npm registry serves.
INTEGRITY = "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
TARBALL = f"{PACKAGE}-{VERSION}.tgz"
#: What the page's WebAssembly backend loads from the package's ``dist/``: the ES module API, the
#: Emscripten loader it imports, and the SIMD build (the same one runs single- and multi-threaded).
RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
# the package's manifest says the version and the license (MIT) of the files beside it
MANIFEST = "package.json"
HOW_TO_GET = (f"get {TARBALL} with `npm pack {PACKAGE}@{VERSION}` (or download that file from the npm registry on "
              "a machine that has network) and pass --runtime FILE")


def cache_dir():
    """The folder the runtime's files are cached in: ``$XDG_CACHE_HOME`` (else ``~/.cache``)
    ``/asteroid-deepmask/onnxruntime-web-1.30.0``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "asteroid-deepmask", f"{PACKAGE}-{VERSION}")


def tarball_integrity(path):
    """The ``sha512-<base64>`` integrity string of the file at ``path`` (npm's ``dist.integrity``).

    Example:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "abc")
        >>> with open(path, "wb") as f:
        ...     _ = f.write(b"abc")
        >>> tarball_integrity(path)[:27]
        'sha512-3a81oZNherrMQXNJriBB'
    """
    digest = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def _files(folder, dist=""):
    """``{name: path}`` of the runtime's files and manifest in ``folder`` (the files in its ``dist`` subfolder)."""
    return {**{n: os.path.join(folder, dist, n) for n in RUNTIME_FILES}, MANIFEST: os.path.join(folder, MANIFEST)}


def _check_manifest(folder, what):
    with open(os.path.join(folder, MANIFEST)) as f:
        manifest = json.load(f)
    if (manifest.get("name"), manifest.get("version")) != (PACKAGE, VERSION):
        raise ValueError(f"{what} is {manifest.get('name')} {manifest.get('version')}, not {PACKAGE} {VERSION}; "
                         f"{HOW_TO_GET}.")


def _unpack(tarball, folder):
    """Check ``tarball`` against :data:`INTEGRITY` and write its runtime files into ``folder`` (whole or not at all)."""
    found = tarball_integrity(tarball)
    if found != INTEGRITY:
        raise ValueError(f"{tarball!r} is not {TARBALL} as published (its sha512 integrity is {found}, "
                         f"expected {INTEGRITY}); {HOW_TO_GET}.")
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".partial-", dir=parent)
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for name in (*(f"dist/{n}" for n in RUNTIME_FILES), MANIFEST):
                source = archive.extractfile(f"package/{name}")
                with open(os.path.join(staging, os.path.basename(name)), "wb") as out:
                    shutil.copyfileobj(source, out)
        if os.path.isdir(folder):  # an incomplete earlier copy
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)
    return folder


def _npm_pack_into_cache(npm):
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp],
                             capture_output=True, text=True)
        tarball = os.path.join(tmp, TARBALL)
        if run.returncode or not os.path.isfile(tarball):
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            raise SetupError(f"`npm pack {PACKAGE}@{VERSION}` failed ({last}); {HOW_TO_GET}.")
        return _files(_unpack(tarball, cache_dir()))


def find_runtime(runtime=None):
    """``{name: path}`` of onnxruntime-web 1.30.0's :data:`RUNTIME_FILES` and its ``package.json`` (see the module
    docstring for where they are looked for).

    Args:
        runtime (str, optional): ``onnxruntime-web-1.30.0.tgz`` (unpacked into the cache once its integrity is
            checked) or the folder it unpacks to (``package/``, with ``dist/`` and ``package.json``).

    Raises:
        ValueError: ``runtime`` is not that tarball or package.
        SetupError: no ``runtime``, nothing cached and no ``npm``: the message says how to get the tarball.
    """
    if runtime is not None:
        runtime = os.fspath(runtime)
        if os.path.isfile(runtime):
            return _files(_unpack(runtime, cache_dir()))
        if not os.path.isdir(runtime):
            raise ValueError(f"--runtime {runtime!r} does not exist: give {TARBALL} or the folder it unpacks to.")
        files = _files(runtime, "dist")
        missing = [os.path.relpath(p, runtime) for p in files.values() if not os.path.isfile(p)]
        if missing:
            raise ValueError(f"--runtime {runtime!r} is not an unpacked {PACKAGE} package (it lacks "
                             f"{', '.join(missing)}); {HOW_TO_GET}.")
        _check_manifest(runtime, f"--runtime {runtime!r}")
        return files
    files = _files(cache_dir())
    if all(os.path.isfile(p) for p in files.values()):
        return files
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError(f"{PACKAGE} {VERSION} (the page's runtime) is not in {cache_dir()!r} and npm is not "
                         f"installed; {HOW_TO_GET}.")
    return _npm_pack_into_cache(npm)


def copy_runtime(folder, runtime=None):
    """Copy the runtime's files into ``folder``; returns their total size in bytes.

    Args:
        folder (str): where the page loads them from (created if needed).
        runtime (str, optional): as in :func:`find_runtime`.
    """
    os.makedirs(folder, exist_ok=True)
    for name, path in find_runtime(runtime).items():
        shutil.copyfile(path, os.path.join(folder, name))
    return sum(os.path.getsize(os.path.join(folder, n)) for n in (*RUNTIME_FILES, MANIFEST))


def main(argv=None):
    """``python -m asteroid_deepmask.deployment.web_runtime [TARBALL]``: fill the cache (from npm, or the tarball)."""
    from ..utils.errors import run_reporting_errors

    argv = sys.argv[1:] if argv is None else argv

    def fetch():
        files = find_runtime(argv[0] if argv else None)
        size = sum(os.path.getsize(p) for p in files.values())
        print(f"{PACKAGE} {VERSION} ready in {os.path.dirname(files[MANIFEST])} ({size / 1e6:.1f} MB)")

    return run_reporting_errors("asteroid_deepmask.deployment.web_runtime", fetch)


if __name__ == "__main__":
    sys.exit(main())
