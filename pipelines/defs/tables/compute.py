"""The mapping's expression language: a safe subset of Python syntax compiled to polars expressions.

An expression is parsed with `ast` and only whitelisted node types and functions are compiled; nothing is
ever evaluated as Python. Source columns arrive as text, so every compiled node carries a type, and text is
cast where arithmetic, comparison with a number or a date part needs it (an unparseable value becomes null,
which the mapping's checks then quarantine or leave empty). See docs/tables.md, "Computed columns".
"""

import ast
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

# Types of compiled nodes: "text" is a source column as delivered; "str" a string built by the expression.
TEXT, STR, NUM, INT, BOOL, DATETIME, DATE, NULL = "text", "str", "num", "int", "bool", "datetime", "date", "null"
_NUMERIC = {NUM, INT}
_STRINGY = {TEXT, STR}
_ISO = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class ExpressionError(ValueError):
    """An expression uses syntax, a function or a column the language does not allow; the message says which."""


@dataclass(frozen=True, slots=True)
class Typed:
    expr: pl.Expr
    type: str


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled expression: the polars expression, its result type and the columns it reads."""

    expr: pl.Expr
    type: str
    columns: frozenset[str]


def _num(t: Typed) -> pl.Expr:
    if t.type in _NUMERIC:
        return t.expr
    if t.type in _STRINGY:
        return t.expr.str.strip_chars().cast(pl.Float64, strict=False)
    if t.type == BOOL:
        return t.expr.cast(pl.Int64)
    if t.type == NULL:
        return t.expr.cast(pl.Float64)
    raise ExpressionError(f"a {t.type} value is used as a number")


def _str(t: Typed) -> pl.Expr:
    if t.type in _STRINGY:
        return t.expr
    if t.type == INT:
        return t.expr.cast(pl.Int64).cast(pl.String)
    if t.type == NUM:
        # 70.0 reads as "70": a whole number written from a float keeps the form a source would have used
        return (
            pl.when(t.expr == t.expr.round(0))
            .then(t.expr.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(t.expr.cast(pl.String))
        )
    if t.type == DATE:
        return t.expr.dt.strftime("%Y-%m-%d")
    if t.type == DATETIME:
        return t.expr.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return t.expr.cast(pl.String)


def _datetime(t: Typed, fmt: str | None = None) -> pl.Expr:
    if t.type == DATETIME:
        return t.expr
    if t.type == DATE:
        return t.expr.cast(pl.Datetime("us"))
    if t.type in _STRINGY:
        text = t.expr.str.strip_chars()
        if fmt:
            return text.str.to_datetime(fmt, strict=False, time_unit="us")
        return pl.coalesce([text.str.to_datetime(f, strict=False, time_unit="us") for f in _ISO])
    if t.type == NULL:
        return t.expr.cast(pl.Datetime("us"))
    raise ExpressionError(f"a {t.type} value is used as a date or time")


def check_format(fmt: str) -> str:
    """A strftime format polars can use; some combinations (an hour without minutes) fail at run time."""
    import polars.exceptions as ple

    try:
        pl.Series(["2000-01-01 00:00:00"]).str.to_datetime(fmt, strict=False, time_unit="us")
    except ple.PolarsError as err:
        reason = str(err).strip().splitlines()[0][:120]
        raise ExpressionError(f"time format {fmt!r} is not usable ({reason})") from None
    return fmt


def _int(t: Typed) -> pl.Expr:
    return _num(t).cast(pl.Int64, strict=False) if t.type != INT else t.expr


def _bool(t: Typed) -> pl.Expr:
    if t.type == BOOL:
        return t.expr
    if t.type == NULL:
        return t.expr.cast(pl.Boolean)
    raise ExpressionError(f"a {t.type} value is used as a condition; compare it (==, <, is None) first")


def _same(values: list[Typed]) -> tuple[list[pl.Expr], str]:
    """Bring branch values (coalesce, case) to one type: numbers stay numbers, else text."""
    kinds = {v.type for v in values} - {NULL}
    if kinds <= {INT}:
        return [v.expr.cast(pl.Int64) for v in values], INT
    if kinds <= _NUMERIC:
        return [_num(v) for v in values], NUM
    if kinds <= {DATE}:
        return [v.expr.cast(pl.Date) for v in values], DATE
    if kinds <= {DATE, DATETIME}:
        return [_datetime(v) for v in values], DATETIME
    if kinds <= {BOOL}:
        return [v.expr.cast(pl.Boolean) for v in values], BOOL
    return [_str(v) for v in values], STR


def _literal(node: ast.expr) -> object:
    if not isinstance(node, ast.Constant) or isinstance(node.value, bytes | complex):
        raise ExpressionError("this argument must be a literal string or number")
    return node.value


def _int_literal(node: ast.expr, what: str) -> int:
    value = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
    v = _literal(value)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ExpressionError(f"{what} must be a literal integer")
    return -v if value is not node else v


class _Compiler:
    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = columns  # name -> type (text for source columns, the computed type otherwise)
        self.used: set[str] = set()

    def compile(self, node: ast.AST) -> Typed:
        method = getattr(self, f"_node_{type(node).__name__.lower()}", None)
        if method is None:
            raise ExpressionError(f"{type(node).__name__} syntax is not part of the expression language")
        return method(node)

    def _node_expression(self, node: ast.Expression) -> Typed:
        return self.compile(node.body)

    def _node_name(self, node: ast.Name) -> Typed:
        if node.id in ("true", "false", "null"):
            return self._node_constant(ast.Constant({"true": True, "false": False, "null": None}[node.id]))
        if node.id not in self.columns:
            raise ExpressionError(f"unknown column {node.id!r}")
        self.used.add(node.id)
        return Typed(pl.col(node.id), self.columns[node.id])

    def _node_constant(self, node: ast.Constant) -> Typed:
        v = node.value
        if v is None:
            return Typed(pl.lit(None), NULL)
        if isinstance(v, bool):
            return Typed(pl.lit(v), BOOL)
        if isinstance(v, int):
            if not -(2**63) <= v < 2**63:
                raise ExpressionError("an integer literal beyond 64 bits")
            return Typed(pl.lit(v, pl.Int64), INT)
        if isinstance(v, float):
            return Typed(pl.lit(v, pl.Float64), NUM)
        if isinstance(v, str):
            return Typed(pl.lit(v, pl.String), STR)
        raise ExpressionError(f"a {type(v).__name__} literal is not allowed")

    def _node_unaryop(self, node: ast.UnaryOp) -> Typed:
        v = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return Typed(~_bool(v), BOOL)
        if isinstance(node.op, ast.USub):
            return Typed(-(v.expr if v.type in _NUMERIC else _num(v)), INT if v.type == INT else NUM)
        if isinstance(node.op, ast.UAdd):
            return Typed(_num(v), INT if v.type == INT else NUM)
        raise ExpressionError("unsupported unary operator")

    def _node_binop(self, node: ast.BinOp) -> Typed:
        a, b = self.compile(node.left), self.compile(node.right)
        if isinstance(node.op, ast.Add) and STR in (a.type, b.type):
            return Typed(pl.concat_str([_str(a), _str(b)]), STR)  # a string literal on either side: concat
        if {a.type, b.type} & {DATE, DATETIME}:
            raise ExpressionError("date arithmetic is not supported; use date parts (year, month, ...)")
        ops: dict[type, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
            ast.Add: lambda x, y: x + y,
            ast.Sub: lambda x, y: x - y,
            ast.Mult: lambda x, y: x * y,
            ast.Div: lambda x, y: x / y,
            ast.FloorDiv: lambda x, y: x // y,
            ast.Mod: lambda x, y: x % y,
            ast.Pow: lambda x, y: x**y,
        }
        op = ops.get(type(node.op))
        if op is None:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        whole = a.type == INT and b.type == INT and not isinstance(node.op, ast.Div | ast.Pow)
        x, y = _num(a), _num(b)
        out = op(x, y)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
            out = pl.when(y != 0).then(out)  # a zero divisor gives null, not an infinity in numeric_value
        return Typed(out, INT if whole else NUM)

    def _node_boolop(self, node: ast.BoolOp) -> Typed:
        values = [_bool(self.compile(v)) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = out & v if isinstance(node.op, ast.And) else out | v
        return Typed(out, BOOL)

    def _node_compare(self, node: ast.Compare) -> Typed:
        parts = []
        left = self.compile(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot):
                if not (isinstance(right_node, ast.Constant) and right_node.value is None):
                    raise ExpressionError("`is` compares only with None")
                parts.append(left.expr.is_null() if isinstance(op, ast.Is) else left.expr.is_not_null())
                continue
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right_node, ast.List | ast.Tuple | ast.Set):
                    raise ExpressionError("`in` needs a literal list, e.g. x in ('a', 'b')")
                items = [_literal(e) for e in right_node.elts]
                numeric = all(isinstance(i, int | float) and not isinstance(i, bool) for i in items)
                lhs = _num(left) if numeric else _str(left)
                cond = lhs.is_in([float(i) for i in items] if numeric else [str(i) for i in items])
                parts.append(cond if isinstance(op, ast.In) else ~cond)
                continue
            right = self.compile(right_node)
            x, y = self._comparable(left, right)
            cmp = {
                ast.Eq: x.eq,
                ast.NotEq: x.ne,
                ast.Lt: x.lt,
                ast.LtE: x.le,
                ast.Gt: x.gt,
                ast.GtE: x.ge,
            }.get(type(op))
            if cmp is None:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed")
            parts.append(cmp(y))
            left = right
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return Typed(out, BOOL)

    @staticmethod
    def _comparable(a: Typed, b: Typed) -> tuple[pl.Expr, pl.Expr]:
        kinds = {a.type, b.type} - {NULL}
        if kinds & _NUMERIC:
            return _num(a), _num(b)
        if kinds & {DATE, DATETIME}:
            return _datetime(a), _datetime(b)
        if kinds == {BOOL}:
            return a.expr, b.expr
        return _str(a), _str(b)

    def _node_ifexp(self, node: ast.IfExp) -> Typed:
        cond = _bool(self.compile(node.test))
        (yes, no), kind = _same([self.compile(node.body), self.compile(node.orelse)])
        return Typed(pl.when(cond).then(yes).otherwise(no), kind)

    def _node_call(self, node: ast.Call) -> Typed:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExpressionError("only plain calls of the listed functions are allowed, without keywords")
        name = node.func.id
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise ExpressionError(f"unknown function {name!r} (allowed: {', '.join(sorted(_FUNCTIONS))})")
        return fn(self, node.args)


def _arity(args: list, low: int, high: int, name: str) -> None:
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise ExpressionError(f"{name}() takes {want} arguments, got {len(args)}")


def _fn_coalesce(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 64, "coalesce")
    exprs, kind = _same([c.compile(a) for a in args])
    return Typed(pl.coalesce(exprs), kind)


def _fn_case(c: _Compiler, args: list) -> Typed:
    """case(cond1, value1, cond2, value2, ..., default): the first true condition's value."""
    if len(args) < 3 or len(args) % 2 == 0:
        raise ExpressionError("case() takes condition, value pairs and a final default value")
    conds = [_bool(c.compile(a)) for a in args[0:-1:2]]
    values, kind = _same([c.compile(a) for a in [*args[1:-1:2], args[-1]]])
    chain = pl.when(conds[0]).then(values[0])
    for cond, value in zip(conds[1:], values[1:-1], strict=True):
        chain = chain.when(cond).then(value)
    return Typed(chain.otherwise(values[-1]), kind)


def _fn_concat(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 64, "concat")
    return Typed(pl.concat_str([_str(c.compile(a)) for a in args]), STR)


def _fn_split(c: _Compiler, args: list) -> Typed:
    """split(text, separator, index): the index-th part (0-based; negative from the end), null if absent."""
    _arity(args, 3, 3, "split")
    text, sep, index = c.compile(args[0]), _literal(args[1]), _int_literal(args[2], "split()'s index")
    if not isinstance(sep, str) or not sep:
        raise ExpressionError("split(text, 'separator', index) needs a literal, non-empty separator")
    part = _str(text).str.split(sep).list.get(index, null_on_oob=True).str.strip_chars()
    return Typed(part, TEXT)  # a part of the source text is still source text: arithmetic casts it


def _fn_replace(c: _Compiler, args: list) -> Typed:
    _arity(args, 3, 3, "replace")
    old, new = _literal(args[1]), _literal(args[2])
    if not isinstance(old, str) or not isinstance(new, str) or not old:
        raise ExpressionError("replace(text, 'old', 'new') needs literal strings, `old` not empty")
    return Typed(_str(c.compile(args[0])).str.replace_all(str(old), str(new), literal=True), TEXT)


def _fn_substr(c: _Compiler, args: list) -> Typed:
    """substr(text, start, length): 0-based start."""
    _arity(args, 2, 3, "substr")
    start = _int_literal(args[1], "substr()'s start")
    length = _int_literal(args[2], "substr()'s length") if len(args) == 3 else None
    if length is not None and length < 0:
        raise ExpressionError("substr()'s length must not be negative")
    return Typed(_str(c.compile(args[0])).str.slice(start, length), TEXT)


def _string_fn(name: str, method: Callable[[pl.Expr], pl.Expr]) -> Callable:
    def fn(c: _Compiler, args: list) -> Typed:
        _arity(args, 1, 1, name)
        return Typed(method(_str(c.compile(args[0]))), TEXT)

    return fn


def _fn_length(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 1, "length")
    return Typed(_str(c.compile(args[0])).str.len_chars().cast(pl.Int64), INT)


def _fn_int(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 1, "int")
    return Typed(_num(c.compile(args[0])).cast(pl.Int64, strict=False), INT)


def _fn_float(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 1, "float")
    return Typed(_num(c.compile(args[0])), NUM)


def _fn_str(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 1, "str")
    return Typed(_str(c.compile(args[0])), STR)


def _fn_round(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 2, "round")
    digits = _int_literal(args[1], "round()'s digits") if len(args) == 2 else 0
    if not 0 <= digits <= 15:
        raise ExpressionError("round()'s digits must be between 0 and 15")
    return Typed(_num(c.compile(args[0])).round(digits), NUM)


def _fn_abs(c: _Compiler, args: list) -> Typed:
    _arity(args, 1, 1, "abs")
    v = c.compile(args[0])
    return Typed(_num(v).abs(), INT if v.type == INT else NUM)


def _fn_datetime(c: _Compiler, args: list) -> Typed:
    """datetime(text[, 'strftime format']): a naive date-time (an event time reads it in the source's zone)."""
    _arity(args, 1, 2, "datetime")
    fmt = check_format(str(_literal(args[1]))) if len(args) == 2 else None
    return Typed(_datetime(c.compile(args[0]), None if fmt is None else str(fmt)), DATETIME)


def _fn_date(c: _Compiler, args: list) -> Typed:
    """date(text[, format]) parses a date; date(year, month, day) builds one."""
    if len(args) == 3:
        # Built as text and parsed leniently: 31 February or a month 13 is null (pl.date would stop the run).
        y, m, d = (_int(c.compile(a)).cast(pl.String) for a in args)
        text = pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)])
        return Typed(text.str.to_date("%Y-%m-%d", strict=False), DATE)
    _arity(args, 1, 2, "date")
    fmt = check_format(str(_literal(args[1]))) if len(args) == 2 else None
    return Typed(_datetime(c.compile(args[0]), None if fmt is None else str(fmt)).dt.date(), DATE)


def _part_fn(name: str, method: Callable[[pl.Expr], pl.Expr]) -> Callable:
    def fn(c: _Compiler, args: list) -> Typed:
        _arity(args, 1, 1, name)
        return Typed(method(_datetime(c.compile(args[0]))).cast(pl.Int64), INT)

    return fn


_FUNCTIONS: dict[str, Callable[[_Compiler, list], Typed]] = {
    "coalesce": _fn_coalesce,
    "case": _fn_case,
    "concat": _fn_concat,
    "split": _fn_split,
    "replace": _fn_replace,
    "substr": _fn_substr,
    "upper": _string_fn("upper", lambda e: e.str.to_uppercase()),
    "lower": _string_fn("lower", lambda e: e.str.to_lowercase()),
    "strip": _string_fn("strip", lambda e: e.str.strip_chars()),
    "length": _fn_length,
    "int": _fn_int,
    "float": _fn_float,
    "str": _fn_str,
    "round": _fn_round,
    "abs": _fn_abs,
    "datetime": _fn_datetime,
    "date": _fn_date,
    "year": _part_fn("year", lambda e: e.dt.year()),
    "month": _part_fn("month", lambda e: e.dt.month()),
    "day": _part_fn("day", lambda e: e.dt.day()),
    "hour": _part_fn("hour", lambda e: e.dt.hour()),
    "minute": _part_fn("minute", lambda e: e.dt.minute()),
    "weekday": _part_fn("weekday", lambda e: e.dt.weekday()),  # ISO: Monday 1 .. Sunday 7
}
FUNCTIONS = tuple(sorted(_FUNCTIONS))


def parse(source: str) -> ast.Expression:
    """Parse an expression; a syntax error is an ExpressionError naming the column of the mistake."""
    if len(source) > 2000:
        raise ExpressionError("expression longer than 2000 characters")
    try:
        return ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"not a valid expression (syntax error at character {err.offset})") from None


def validate(source: str) -> None:
    """Syntax and function names only (columns are not known yet): used when a mapping is loaded."""
    tree = parse(source)
    compiler = _Compiler(_AnyColumns())
    compiler.compile(tree)


class _AnyColumns(dict):
    """Every name is a text column: lets a mapping's expressions be checked before the tables are read."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return TEXT


def compile_expression(source: str, columns: dict[str, str]) -> Compiled:
    """Compile `source` against the given columns (name -> type; source columns are TEXT)."""
    compiler = _Compiler(columns)
    typed = compiler.compile(parse(source))
    return Compiled(typed.expr, typed.type, frozenset(compiler.used))


def as_string(c: Compiled) -> pl.Expr:
    return _str(Typed(c.expr, c.type))


def as_number(c: Compiled) -> pl.Expr:
    return _num(Typed(c.expr, c.type))


def as_datetime(c: Compiled) -> pl.Expr:
    return _datetime(Typed(c.expr, c.type))
