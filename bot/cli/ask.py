"""``tutorbot ask``: answer questions about the course from the command line.

One question as an argument, or one per line on standard input (the model and the course index
load once per run). Answers are logged to ``ask_log`` as the console learner, like the bot's.
Standard output carries only answers (or JSON); logs and progress go to standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli._common import read_blocking
from bot.errors import TutorError
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.services.tutor import AskResult, TutorService

log = logging.getLogger(__name__)

EPILOG = """\
engines:
  auto   Claude when ANTHROPIC_API_KEY is set and answering works; otherwise (no key, API
         unreachable, 429, 5xx/529, a stream that fails or stalls, the deadline
         ask.timeout_s, the daily token budget spent) the local model answers, labelled
         as an offline answer. This is the default (setting ask.engine).
  llm    Claude only, never the local model: when Claude cannot answer, the failure and its
         reason are reported (on stderr, or as "error" in JSON) and the exit status is 1.
  local  the local model only; Claude is never called.

JSON (--json for one question, --jsonl for questions read from standard input, one object
per input line and nothing else on standard output):
  {"question", "answer", "engine": "llm"|"local", "fallback_reason", "citations":
   [{"passage", "lesson", "title"}], "latency_ms" (retrieval included), "model",
   "usage": {"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"},
   "ask_log_id", "error", "covered"}
  "covered" is false when the answer says the course does not cover the question (the local
  answer declines, or Claude cites no course passage); null when there is no answer.
  "answer" is null and "error" says why when a question could not be answered (empty or too
  long, or --engine llm failed); "error" is null otherwise.

exit status: 0 when every question was answered, 1 when any was not, 2 on a setup error.
"""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``ask`` to the ``tutorbot`` subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "ask", help="answer questions about the course",
        description="Answer one question, or one per line from standard input.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run ``tutorbot ask``; returns the exit status."""
    from bot.cli._common import start

    return main(start(args, quiet=True), args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ask`` command's arguments to its sub-parser."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument(
        "question", nargs="?",
        help="the question; without it, questions are read one per line from standard input",
    )
    parser.add_argument(
        "--engine", choices=("auto", "llm", "local"), default=None,
        help="who answers (default: the ask.engine setting, normally auto); see below",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true",
                        help="print the answer as one JSON object")
    output.add_argument("--jsonl", action="store_true",
                        help="with questions on standard input: one JSON object per line")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``tutorbot ask``; returns the exit status."""
    return asyncio.run(_run(settings, args, sys.stdin, sys.stdout, sys.stderr))


async def _run(
    settings: Settings, args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO
) -> int:
    from bot.app import build_app

    app = await build_app(settings)
    try:
        tutor = await app.tutor(progress=stderr.isatty())
        as_json = bool(args.json or args.jsonl)
        if args.question is not None:
            ok = await _answer_one(tutor, app.db.sessions, settings, args, args.question,
                                   as_json, stdout, stderr)
            return 0 if ok else 1
        if stdin.isatty() and not as_json:
            print("Type a question per line; end with Ctrl-D.", file=stderr)
        failures = 0
        # Read line by line (not all at once) so answers stream out as questions come in.
        while line := await read_blocking(stdin.readline):
            question = line.rstrip("\r\n")
            ok = await _answer_one(tutor, app.db.sessions, settings, args, question, as_json,
                                   stdout, stderr)
            failures += not ok
            if not as_json:
                print(file=stdout)
        return 1 if failures else 0
    finally:
        await app.close()


async def _answer_one(
    tutor: TutorService,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    args: argparse.Namespace,
    question: str,
    as_json: bool,
    stdout: TextIO,
    stderr: TextIO,
) -> bool:
    from bot.services.tutor import AskRequest, TutorUnavailableError

    record: dict[str, Any] = {
        "question": question, "answer": None, "engine": args.engine or settings.ask.engine,
        "fallback_reason": None, "citations": [], "latency_ms": None, "model": None,
        "usage": None, "ask_log_id": None, "error": None, "covered": None,
    }
    result: AskResult | None = None
    try:
        request = AskRequest(
            learner_id=settings.console.learner_id,
            question=question,
            display_name=settings.console.name,
            engine=args.engine,
        )
        # The operator's own tool: no rate limit; the token budget still applies.
        result = await tutor.ask(sessions, request, rate_limit=False)
    except TutorUnavailableError as exc:
        record.update(engine="llm", fallback_reason=exc.reason.value, error=str(exc),
                      ask_log_id=exc.ask_log_id)
    except TutorError as exc:
        record["error"] = str(exc)
    except Exception as exc:
        # A bug: logged with its traceback; the other questions of a batch still get answers.
        log.exception("answering %r failed", question[:80])
        record["error"] = f"internal error ({type(exc).__name__}); see the log"
    if result is not None:
        record.update(
            question=result.question,
            answer=result.text,
            engine=result.engine,
            fallback_reason=result.fallback_reason,
            citations=[{"passage": c.passage_id, "lesson": c.lesson, "title": c.title}
                       for c in result.citations],
            latency_ms=result.latency_ms,
            model=result.model,
            usage={
                "input_tokens": result.usage.input_tokens,
                "output_tokens": result.usage.output_tokens,
                "cache_read_tokens": result.usage.cache_read_tokens,
                "cache_write_tokens": result.usage.cache_write_tokens,
            },
            ask_log_id=result.ask_log_id,
            covered=result.covered,
        )
    if as_json:
        print(json.dumps(record, ensure_ascii=False), file=stdout, flush=True)
    elif result is None:
        print(f"tutorbot ask: {record['error']}", file=stderr)
    else:
        print(result.text, file=stdout)
        if result.citations:
            print("\nSources:", file=stdout)
            for number, citation in enumerate(result.citations, start=1):
                print(f"  [{number}] {citation.label}", file=stdout)
        stdout.flush()
        reason = f", fallback: {result.fallback_reason}" if result.fallback_reason else ""
        print(f"({result.engine}{reason}; {result.latency_ms} ms)", file=stderr)
    return result is not None
