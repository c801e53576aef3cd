"""OHIF's ``app-config.js`` with the embedded server as its data source.

OHIF (3.13) from another origin needs the server started with CORS for that origin
(``dicomweb-nb serve --cors http://127.0.0.1:3000``, ``LocalServer(cors=…)``). README.md ("Viewing
in OHIF") shows :func:`app_config` for ``http://127.0.0.1:8080/v1``; tests/test_browser_viewers.py
runs the real viewer with it, and tests/test_readme_ohif.py keeps the README's copy the same.
"""

from __future__ import annotations

# Keys of OHIF 3.13's DICOMweb data source (platform/docs/docs/configuration/dataSources/
# dicom-web.md, extensions/default/src/DicomWebDataSource), each chosen for the embedded server.
CONFIG = """\
window.config = {
  routerBasename: '/',
  showStudyList: true,
  extensions: [],
  modes: [],
  defaultDataSourceName: 'dicomweb-nb',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'dicomweb-nb',
      configuration: {
        friendlyName: 'dicomweb-nb embedded server',
        name: 'dicomweb-nb',
        // One versioned base URL for search, retrieve and store (/v2 works too).
        qidoRoot: '{url}',
        wadoRoot: '{url}',
        qidoSupportsIncludeField: true, // includefield is honoured (counts come anyway)
        supportsFuzzyMatching: true, // fuzzymatching=true: name prefixes, as the reference
        supportsWildcard: true, // * and ? in filters (beyond the reference)
        imageRendering: 'wadors', // frames, decoded in the browser
        thumbnailRendering: 'rendered', // the server's .../rendered JPEGs
        thumbnailRequestStrategy: 'fetch', // a plain GET of them
        enableStudyLazyLoad: true,
        staticWado: false,
        singlepart: 'bulkdata,video,pdf', // bulk data as plain bytes (--bulkdata-uris)
        bulkDataURI: { enabled: true },
        omitQuotationForMultipartRequest: true, // either form is accepted
        supportsReject: false, // DELETE exists, the reject note does not
        dicomUploadEnabled: true, // STOW from the study list's Upload
      },
    },
  ],
};
"""


def app_config(url: str) -> str:
    """Return OHIF's ``app-config.js`` with the embedded server at ``url`` as its data source.

    Parameters
    ----------
    url : str
        The versioned DICOMweb base URL, e.g. ``http://127.0.0.1:8080/v1``.

    Returns
    -------
    str
        The JavaScript file, to save as ``app-config.js`` in OHIF's built ``dist`` folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> Path("ohif/app-config.js").write_text(app_config(server.url))  # doctest: +SKIP
    """
    return CONFIG.replace("{url}", url.rstrip("/"))
