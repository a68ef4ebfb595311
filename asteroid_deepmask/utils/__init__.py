"""Small helpers every part uses: whole-file writes (``atomic``), argument checks (``checks``),
how commands report errors (``errors``), other libraries' warnings kept out of sight
(``library_noise``) and modules moved in 0.2.0 (``moved``)."""
