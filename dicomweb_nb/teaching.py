"""For tutorials and workshops: errors in one sentence, checks that say what to do.

``%load_ext dicomweb_nb`` in a notebook makes the errors a learner meets most show as one line
with what to do next, instead of a traceback of several screens:

* a stopped server or a wrong URL in a raw ``requests`` call (``ConnectionError``),
* an error status from ``response.raise_for_status()`` (409: already stored, run the cleanup
  cell; 404: not there, run the cells above in order …),
* a ``NameError`` from running a cell before the one that defines the name.

``%tb`` in the next cell shows the whole traceback. The package's own errors
(:class:`~dicomweb_nb.client.DicomWebError`) are one line with or without the extension.

:func:`check_answer` checks a workshop answer against a digest, so the check cell does not
give the answer away.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import sys
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from .client.errors import full_traceback, one_line

#: What to do after an error status, by status code (English).
STATUS_HINTS: dict[int, str] = {
    400: "the server rejected the request as malformed; compare it with the cell's explanation",
    401: "the server wants credentials: set DICOMWEB_TOKEN before starting Jupyter",
    403: "the credentials lack permission for this",
    404: "it is not there (deleted, or not stored yet): run the cells above in order, "
    "or Restart Kernel and Run All",
    406: "the server cannot send that format; ask for transfer-syntax=*",
    409: "already stored: run the cleanup cell at the top, or Restart Kernel and Run All",
    415: "the server does not take this Content-Type",
}
#: The same in Chinese, for the zh notebooks (:func:`set_language`).
STATUS_HINTS_ZH: dict[int, str] = {
    400: "服务器认为请求格式不正确；请对照本单元格的说明检查请求",
    401: "服务器需要凭据：请在启动 Jupyter 之前设置 DICOMWEB_TOKEN",
    403: "凭据没有执行此操作的权限",
    404: "资源不存在（已删除或尚未存储）：请按顺序运行上面的单元格，或选择“重启内核并运行全部”",
    406: "服务器无法返回该格式；请使用 transfer-syntax=*",
    409: "已经存储过：请运行顶部的清理单元格，或选择“重启内核并运行全部”",
    415: "服务器不接受此 Content-Type",
}
_WORDS = {
    "en": {
        "rerun": "run the cells above in order (Run ▸ Run All Above Selected Cell) "
        "or Restart Kernel and Run All",
        "defined": "a cell above defines it",
        "answered": "answered",
        "server error": "the server failed; look at its log",
        "see text": "see response.text",
        "timeout": "the server did not answer in time: is it busy, or the URL wrong?",
        "connect": "cannot connect to {url}: the server is stopped or the URL is wrong. Run the "
        "setup cell at the top again (it starts the embedded server), or check DICOMWEB_URL.",
        "write": "write your answer in {name} in the cell above, then run it.",
        "wrong": "{name} = {value} is not the answer{what}. Try again.",
        "correct": "✔ Correct!",
        "not yet": "✘ Not yet",
    },
    "zh": {
        "rerun": "请按顺序运行上面的单元格（运行 ▸ 运行所选单元格上方的全部），"
        "或重启内核并运行全部",
        "defined": "它由上面的某个单元格定义",
        "answered": "返回了",
        "server error": "服务器出错；请查看其日志",
        "see text": "请查看 response.text",
        "timeout": "服务器没有及时响应：它是否繁忙，或者 URL 有误？",
        "connect": "无法连接到 {url}：服务器已停止或 URL 有误。请重新运行顶部的准备单元格"
        "（它会启动嵌入式服务器），或检查 DICOMWEB_URL。",
        "write": "请先在上面的单元格中把答案写入 {name}，然后运行它。",
        "wrong": "{name} = {value} 不是正确答案{what}。请再试一次。",
        "correct": "✔ 正确！",
        "not yet": "✘ 还不对",
    },
}
_language = "en"


def set_language(language: str) -> None:
    """Say the messages of this module in English (``"en"``) or Chinese (``"zh"``).

    Parameters
    ----------
    language : {"en", "zh"}
        The language.

    Raises
    ------
    ValueError
        For another language.
    """
    global _language
    if language not in _WORDS:
        raise ValueError(f"No messages in {language!r}; choose one of {', '.join(_WORDS)}.")
    _language = language


def _say(key: str, **values: Any) -> str:
    return _WORDS[_language][key].format(**values)


class CheckFailed(AssertionError):
    """A tutorial or workshop check that did not hold; shows as one line in Jupyter."""

    _rendered = False

    def _render_traceback_(self) -> list[str]:
        if self._rendered:
            return full_traceback(self)
        self._rendered = True
        return [one_line(_say("not yet"), str(self))]


def status_message(response: Any) -> str:
    """Say in one sentence what an error response means and what to do.

    Parameters
    ----------
    response : requests.Response
        The response.

    Returns
    -------
    str
        E.g. ``"POST http://…/studies answered 409 Conflict: already stored: run the cleanup
        cell …"``.
    """
    request = getattr(response, "request", None)
    method = getattr(request, "method", None) or ""
    url = getattr(request, "url", None) or getattr(response, "url", "")
    status = int(response.status_code)
    hint = (STATUS_HINTS_ZH if _language == "zh" else STATUS_HINTS).get(status)
    if hint is None:
        hint = (
            _say("server error") if status >= HTTPStatus.INTERNAL_SERVER_ERROR else _say("see text")
        )
    end = "。" if _language == "zh" else "."
    return f"{method} {url} {_say('answered')} {status} {response.reason}: {hint}{end}".strip()


def expect_status(response: Any, *codes: int) -> Any:
    """Check a raw response's status; on any other, fail with what it means and what to do.

    Parameters
    ----------
    response : requests.Response
        The response.
    *codes : int
        The statuses expected (default 200).

    Returns
    -------
    requests.Response
        The response, to chain.

    Raises
    ------
    CheckFailed
        With :func:`status_message` (one line in Jupyter).
    """
    if int(response.status_code) not in (codes or (200,)):
        raise CheckFailed(status_message(response))
    return response


def _canonical(value: Any) -> Any:
    # The same answer in any reasonable form gives the same digest: numpy and Python numbers,
    # tuples and lists, pandas Series and dicts.
    if hasattr(value, "to_dict") and not isinstance(value, Mapping):
        value = value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, str | bytes):
        return value.decode() if isinstance(value, bytes) else value
    if isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and float(value).is_integer()
    ):
        return int(value)  # type: ignore[call-overload]
    if isinstance(value, numbers.Real):
        return round(float(value), 6)
    if hasattr(value, "tolist"):
        return _canonical(value.tolist())
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return repr(value)


def digest(name: str, value: Any) -> str:
    """Return the digest of an answer, as :func:`check_answer` compares it.

    Parameters
    ----------
    name : str
        The exercise's name (each exercise salts its own digests).
    value : Any
        The answer.

    Returns
    -------
    str
        A SHA-256 hex digest of the name and the answer's canonical JSON.
    """
    text = json.dumps([name, _canonical(value)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def check_answer(name: str, value: Any, expected: str, hint: str = "") -> str:
    """Check a workshop answer against the digest of the right one, without revealing it.

    Parameters
    ----------
    name : str
        The answer's variable name, e.g. ``"answer_4"``.
    value : Any
        The answer.
    expected : str
        :func:`digest` of the right answer.
    hint : str
        What kind of value is wanted, said when the answer is wrong.

    Returns
    -------
    str
        ``"✔ Correct!"``.

    Raises
    ------
    CheckFailed
        When the answer is missing or wrong (one line in Jupyter).
    """
    if value is ... or value is None:
        raise CheckFailed(_say("write", name=name))
    if digest(name, value) != expected:
        what = f" ({hint})" if hint else ""
        raise CheckFailed(_say("wrong", name=name, value=f"{value!r:.80}", what=what))
    return _say("correct")


def _short_error(
    shell: Any,
    etype: type,
    value: BaseException,
    tb: Any,
    tb_offset: Any = None,  # noqa: ARG001 - IPython passes it by name
) -> None:
    import requests

    if isinstance(value, requests.HTTPError) and value.response is not None:
        message = status_message(value.response)
    elif isinstance(value, requests.Timeout):
        message = _say("timeout")
    elif isinstance(value, requests.ConnectionError):
        url = getattr(value.request, "url", None) or "the server"
        message = _say("connect", url=url)
    elif isinstance(value, NameError):
        message = f"{value}: {_say('defined')}; {_say('rerun')}."
    else:
        message = str(value)
    # IPython shows what the handler displays, and %tb reads sys.last_*: set both.
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    shell._showtraceback(etype, value, [one_line(etype.__name__, message, limit=400)])


def load_ipython_extension(shell: Any) -> None:
    """Make connection errors, error statuses and NameErrors show as one line (``%load_ext``).

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The shell.
    """
    import requests

    shell.set_custom_exc((requests.RequestException, NameError), _short_error)


def unload_ipython_extension(shell: Any) -> None:
    """Put IPython's usual tracebacks back (``%unload_ext``).

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The shell.
    """
    shell.set_custom_exc((), None)
