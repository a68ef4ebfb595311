"""Downloads for the corpus generators (at recipe time only; tests pass local folders)."""
import os
import urllib.request


def download(url, folder, fallback):
    """Download ``url`` into ``folder`` (kept under its own name once complete); returns its path.

    ``fallback`` tells the user what to do by hand when the download fails.
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, os.path.basename(url))
    if not os.path.isfile(path):
        try:
            urllib.request.urlretrieve(url, path + ".part")
        except OSError as err:
            raise FileNotFoundError(f"Could not download {url} ({err}). {fallback}") from None
        os.replace(path + ".part", path)
    return path
