/**
 * Names a service may not take, because its Python package (name with '-' -> '_')
 * would be a keyword or would shadow a module the generated service imports.
 */
export const PYTHON_KEYWORDS: readonly string[] = `and as assert async await break case class continue def del elif else except false finally for from global if
import in is lambda match none nonlocal not or pass raise return true try type while with yield`.split(/\s+/);

/** Python's sys.stdlib_module_names (3.11-3.13), lowercase identifiers only. */
const STDLIB = `abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb binascii
bisect builtins bz2 calendar cgi cgitb chunk cmath cmd code codecs codeop collections colorsys compileall concurrent
configparser contextlib contextvars copy copyreg crypt csv ctypes curses dataclasses datetime dbm decimal difflib dis
distutils doctest email encodings ensurepip enum errno faulthandler fcntl filecmp fileinput fnmatch fractions ftplib
functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib
imghdr imp importlib inspect io ipaddress itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap
marshal math mimetypes mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers
opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes pkgutil platform plistlib poplib posix
posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline
reprlib resource rlcompleter runpy sched secrets select selectors shelve shlex shutil signal site smtpd smtplib sndhdr
socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse ssl stat statistics string stringprep struct
subprocess sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this threading time
timeit tkinter token tokenize tomllib trace traceback tracemalloc tty turtle turtledemo types typing unicodedata
unittest urllib uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile
zipimport zlib zoneinfo`.split(/\s+/);

/** Packages the generated services depend on, and names of their own top-level folders. */
const PROJECT = `test tests src deploy docs scripts app api agent main config settings fastapi litestar starlette
uvicorn granian pydantic pydantic_settings msgspec httpx anyio redis asyncpg psycopg sqlalchemy alembic
prometheus_client opentelemetry structlog pytest mypy ruff uv pip setuptools wheel`.split(/\s+/);

export const RESERVED_PACKAGES: ReadonlySet<string> = new Set([...STDLIB, ...PROJECT]);
