"""Build a :class:`~pgtools.crush.map.CrushMap` from crushtool's decompiled text (``crushtool -d``).

Weights are parsed like ``CrushCompiler`` does: ``strtof`` (float32) then ``(unsigned)(f * 65536.0f)``.
Shadow (device-class) trees are rebuilt from the ``id N class X`` lines (§6); ids not given there are
allocated like ``CrushWrapper::device_class_clone`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..crush.buckets import ALG_IDS, Bucket
from ..crush.map import CrushMap, compute_max_devices, float_to_16_16_f32
from ..crush.rule import OPS, RULE_TYPES, ChooseArg, Rule, Tunables
from ..errors import DumpFormatError, UnsupportedFeatureError

__all__ = ["crushmap_from_text"]

_TOKEN = re.compile(r"[{}\[\]]|[^\s{}\[\]]+")


@dataclass
class _Tok:
    text: str
    line: int


class _Stream:
    def __init__(self, text: str, source: str):
        self.source = source
        self.toks: list[_Tok] = []
        for n, raw in enumerate(text.splitlines(), 1):
            body = raw.split("#", 1)[0]
            self.toks.extend(_Tok(t, n) for t in _TOKEN.findall(body))
        self.i = 0

    def err(self, msg: str, fld: str | None = None, tok: _Tok | None = None) -> DumpFormatError:
        if tok is None:
            tok = self.toks[self.i] if self.i < len(self.toks) else (self.toks[-1] if self.toks else None)
        return DumpFormatError(msg, source=self.source, line=tok.line if tok else None, field=fld)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self, fld: str) -> _Tok:
        if self.i >= len(self.toks):
            raise self.err("unexpected end of input", fld)
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str, fld: str) -> None:
        t = self.next(fld)
        if t.text != text:
            raise self.err(f"expected {text!r}, got {t.text!r}", fld, t)

    def int(self, fld: str) -> int:
        t = self.next(fld)
        try:
            val = int(t.text)
        except ValueError:
            raise self.err(f"expected an integer, got {t.text!r}", fld, t) from None
        # crushtool's ids, sizes and tunables are 32-bit; a choose_args key is a 64-bit pool id or (unsigned) -1
        lo, hi = (-(1 << 63), 1 << 64) if fld == "choose_args key" else (-(1 << 31), 1 << 31)
        if not lo <= val < hi:
            raise self.err(f"{t.text} is out of range", fld, t)
        return val

    def weight(self, fld: str) -> int:
        t = self.next(fld)
        try:
            return float_to_16_16_f32(float(t.text))
        except ValueError:
            raise self.err(f"bad weight {t.text!r}", fld, t) from None


@dataclass
class _RawBucket:
    type_name: str
    name: str
    id: int | None
    class_ids: dict[str, int]
    alg: int
    hash: int
    items: list[tuple[str, int | None, int | None, _Tok]]  # name, weight, pos, token
    tok: _Tok


def crushmap_from_text(text: str, *, source: str = "<string>") -> CrushMap:
    """Parse crushtool's text format.

    Parameters
    ----------
    text : str
        The decompiled map (``crushtool -d map.bin``).
    source : str
        Name used in error messages.

    Returns
    -------
    CrushMap

    Raises
    ------
    DumpFormatError
        Syntax errors, unknown names/types/algorithms, with the line number.
    UnsupportedFeatureError
        Hash types other than rjenkins1.
    """
    s = _Stream(text, source)
    tun: dict[str, int] = {}
    devices: dict[int, tuple[str, str | None]] = {}
    types: dict[int, str] = {}
    class_order: list[str] = []
    raw_buckets: list[_RawBucket] = []
    raw_rules: list[tuple[str, dict, list, _Tok]] = []
    raw_cargs: list[tuple[int, list, _Tok]] = []

    def note_class(c: str) -> None:
        if c not in class_order:
            class_order.append(c)

    while s.peek() is not None:
        t = s.next("statement")
        kw = t.text
        if kw == "tunable":
            name = s.next("tunable").text
            val = s.int(f"tunable {name}")
            if name in Tunables.__dataclass_fields__:
                tun[name] = val
            else:
                raise s.err(f"unknown tunable {name!r}", "tunable", t)
        elif kw == "device":
            did = s.int("device id")
            name = s.next("device name").text
            cls = None
            nt = s.peek()
            if nt is not None and nt.text == "class" and nt.line == t.line:
                s.next("class")
                cls = s.next("device class").text
                note_class(cls)
            devices[did] = (name, cls)
        elif kw == "type":
            tid = s.int("type id")
            types[tid] = s.next("type name").text
        elif kw == "rule":
            nt = s.peek()
            name = "" if nt is None or nt.text == "{" else s.next("rule name").text
            s.expect("{", "rule")
            fields: dict[str, object] = {}
            steps: list[list[_Tok]] = []
            while True:
                ft = s.next("rule")
                if ft.text == "}":
                    break
                if ft.text == "step":
                    cur = [ft]
                    while s.peek() is not None and s.peek().line == ft.line and s.peek().text != "}":
                        cur.append(s.next("step"))
                    steps.append(cur[1:])
                elif ft.text in ("id", "ruleset", "min_size", "max_size"):
                    fields[ft.text] = s.int(f"rule {ft.text}")
                elif ft.text == "type":
                    tv = s.next("rule type")
                    if tv.text in RULE_TYPES:
                        fields["type"] = RULE_TYPES[tv.text]
                    else:
                        try:
                            fields["type"] = int(tv.text)
                        except ValueError:
                            raise s.err(f"unknown rule type {tv.text!r}", "rule type", tv) from None
                else:
                    raise s.err(f"unexpected {ft.text!r} in rule", "rule", ft)
            raw_rules.append((name, fields, steps, t))
        elif kw == "choose_args":
            key = s.int("choose_args key")
            if key >= 1 << 63:  # an int64 printed as u64: 18446744073709551615 is -1 (the compat weight set)
                key -= 1 << 64
            s.expect("{", "choose_args")
            entries = []
            while True:
                nt = s.next("choose_args")
                if nt.text == "}":
                    break
                if nt.text != "{":
                    raise s.err(f"expected '{{', got {nt.text!r}", "choose_args", nt)
                ent: dict[str, object] = {"tok": nt}
                while True:
                    ft = s.next("choose_args")
                    if ft.text == "}":
                        break
                    if ft.text == "bucket_id":
                        ent["bucket_id"] = s.int("choose_args bucket_id")
                    elif ft.text == "ids":
                        s.expect("[", "choose_args ids")
                        ids = []
                        while s.peek() is not None and s.peek().text != "]":
                            ids.append(s.int("choose_args ids"))
                        s.expect("]", "choose_args ids")
                        ent["ids"] = tuple(ids)
                    elif ft.text == "weight_set":
                        s.expect("[", "choose_args weight_set")
                        rows = []
                        while True:
                            rt = s.next("choose_args weight_set")
                            if rt.text == "]":
                                break
                            if rt.text != "[":
                                raise s.err(f"expected '[', got {rt.text!r}", "choose_args weight_set", rt)
                            row = []
                            while s.peek() is not None and s.peek().text != "]":
                                row.append(s.weight("choose_args weight_set"))
                            s.expect("]", "choose_args weight_set")
                            rows.append(tuple(row))
                        ent["weight_set"] = tuple(rows)
                    else:
                        raise s.err(f"unexpected {ft.text!r} in choose_args", "choose_args", ft)
                entries.append(ent)
            raw_cargs.append((key, entries, t))
        elif kw in types.values():
            name = s.next("bucket name").text
            s.expect("{", "bucket")
            rb = _RawBucket(kw, name, None, {}, ALG_IDS["straw2"], 0, [], t)
            while True:
                ft = s.next("bucket")
                if ft.text == "}":
                    break
                if ft.text == "id":
                    bid = s.int("bucket id")
                    nt = s.peek()
                    if nt is not None and nt.text == "class" and nt.line == ft.line:
                        s.next("class")
                        cls = s.next("bucket class").text
                        note_class(cls)
                        rb.class_ids[cls] = bid
                    else:
                        rb.id = bid
                elif ft.text == "alg":
                    at = s.next("bucket alg")
                    if at.text not in ALG_IDS:
                        raise s.err(f"unknown bucket algorithm {at.text!r}", "alg", at)
                    rb.alg = ALG_IDS[at.text]
                elif ft.text == "hash":
                    ht = s.next("bucket hash")
                    if ht.text not in ("0", "rjenkins1"):
                        raise UnsupportedFeatureError(f"{source}:{ht.line}: hash {ht.text!r} is not supported")
                elif ft.text == "item":
                    iname = s.next("item")
                    w = pos = None
                    while s.peek() is not None and s.peek().line == ft.line and s.peek().text in ("weight", "pos"):
                        k = s.next("item").text
                        if k == "weight":
                            w = s.weight("item weight")
                        else:
                            pos = s.int("item pos")
                    rb.items.append((iname.text, w, pos, iname))
                elif ft.text == "weight":
                    s.weight("bucket weight")  # ignored, recomputed
                else:
                    raise s.err(f"unexpected {ft.text!r} in bucket", "bucket", ft)
            raw_buckets.append(rb)
        else:
            raise s.err(f"unknown statement {kw!r}", "statement", t)

    # ----------------------------------------------------------------------------- buckets
    type_ids = {v: k for k, v in types.items()}
    dev_by_name = {n: i for i, (n, _c) in devices.items()}
    explicit = {rb.id for rb in raw_buckets if rb.id is not None}
    explicit |= {v for rb in raw_buckets for v in rb.class_ids.values()}
    buckets: dict[int, Bucket] = {}
    by_name: dict[str, int] = {}
    for rb in _dependency_order(raw_buckets, s):
        if rb.name in by_name or rb.name in dev_by_name:
            raise s.err(f"duplicate name {rb.name!r}", "bucket name", rb.tok)
        bid = rb.id
        if bid is None:
            bid = -1
            while bid in explicit or bid in buckets:
                bid -= 1
            explicit.add(bid)
        if bid >= 0 or bid in buckets:
            raise s.err(f"bad or duplicate bucket id {bid}", "bucket id", rb.tok)
        items: list[int] = []
        weights: list[int] = []
        slots: dict[int, tuple[int, int]] = {}
        for iname, w, pos, itok in rb.items:
            if iname in dev_by_name:
                iid = dev_by_name[iname]
                wt = 0x10000 if w is None else w
            elif iname in by_name:
                iid = by_name[iname]
                wt = buckets[iid].weight if w is None else w
            else:
                raise s.err(f"unknown item {iname!r}", "item", itok)
            if pos is not None:
                slots[pos] = (iid, wt)
            else:
                items.append(iid)
                weights.append(wt)
        if slots:
            merged: list[tuple[int, int]] = list(zip(items, weights, strict=False))
            for p in sorted(slots):
                merged.insert(min(p, len(merged)), slots[p])
            items = [a for a, _ in merged]
            weights = [b for _, b in merged]
        buckets[bid] = Bucket(bid, rb.name, type_ids[rb.type_name], rb.alg, 0, tuple(items), tuple(weights),
                              sum(weights) & 0xFFFFFFFF)
        by_name[rb.name] = bid

    # ----------------------------------------------------------------------------- tunables
    # crushtool -d prints only the tunables that differ from the legacy (argonaut) values and
    # crushtool -c starts from those, so absent lines mean legacy values.
    base = Tunables.profile("argonaut")
    tunables = Tunables(**{**base.__dict__, **tun})

    # ----------------------------------------------------------------------------- choose_args
    choose_args: dict[int, dict[int, ChooseArg]] = {}
    for key, entries, _tok in raw_cargs:
        cm: dict[int, ChooseArg] = {}
        for ent in entries:
            if "bucket_id" not in ent:
                raise s.err("missing bucket_id", "choose_args bucket_id", ent["tok"])
            cm[int(ent["bucket_id"])] = ChooseArg(ids=ent.get("ids"), weight_set=ent.get("weight_set") or None)
        choose_args[key] = cm

    # ----------------------------------------------------------------------------- shadow trees
    class_bucket: dict[int, dict[str, int]] = {}
    for rb in raw_buckets:
        if rb.class_ids:
            class_bucket[by_name[rb.name]] = dict(rb.class_ids)
    # The compiler clones the class shadow trees when it reaches the first rule
    # (``CrushCompiler::parse_crush`` calls ``populate_classes`` there; a map without rules has no
    # clones).  Its grammar puts choose_args after the rules, so the clones never get weight sets from
    # a text map: a shadow bucket only has choose_args that the text lists for its id explicitly.
    if class_order and raw_rules:
        _build_shadows(buckets, devices, class_order, class_bucket)
        by_name = {b.name: b.id for b in buckets.values()}

    # ----------------------------------------------------------------------------- rules
    rules: dict[int, Rule] = {}
    next_id = 0
    for name, fields, steps, t in raw_rules:
        rid = fields.get("id", fields.get("ruleset"))
        if rid is None:
            rid = next_id
        rid = int(rid)
        next_id = max(next_id, rid + 1)
        if rid in rules:
            raise s.err(f"duplicate rule id {rid}", "rule id", t)
        out_steps = []
        for st in steps:
            if not st:
                raise s.err("empty step", "step", t)
            op = st[0].text
            # one step per line, with exactly its words (crushtool's grammar refuses anything more)
            sizes = _STEP_WORDS.get(op, (2,))
            if len(st) > max(sizes) or (len(st) > min(sizes) and len(st) not in sizes) or (
                    op == "take" and len(st) == 4 and st[2].text != "class"):
                extra = st[min(sizes) if op == "take" else max(n for n in sizes if n < len(st))]
                raise s.err(f"unexpected {extra.text!r} in 'step {op}' (one step per line)", "step", extra)
            try:
                if op == "take":
                    tgt = st[1].text
                    if tgt in by_name:
                        item = by_name[tgt]
                    elif tgt in dev_by_name:
                        item = dev_by_name[tgt]
                    else:
                        raise s.err(f"unknown item {tgt!r}", "step take", st[1])
                    if len(st) >= 4 and st[2].text == "class":
                        cls = st[3].text
                        if item not in class_bucket or cls not in class_bucket[item]:
                            raise s.err(f"no {cls!r} shadow of {tgt!r}", "step take class", st[3])
                        item = class_bucket[item][cls]
                    out_steps.append((OPS["take"], item, 0))
                elif op in ("choose", "chooseleaf"):
                    mode = st[1].text
                    if mode not in ("firstn", "indep"):
                        raise s.err(f"bad choose mode {mode!r}", "step", st[1])
                    num = int(st[2].text)
                    if st[3].text != "type":
                        raise s.err("expected 'type'", "step", st[3])
                    tname = st[4].text
                    if tname not in type_ids:
                        raise s.err(f"unknown type {tname!r}", "step type", st[4])
                    out_steps.append((OPS[f"{op}_{mode}"], num, type_ids[tname]))
                elif op == "choosemsr":  # MSR rules: ``step choosemsr N type T`` (no firstn/indep)
                    num = int(st[1].text)
                    if st[2].text != "type":
                        raise s.err("expected 'type'", "step", st[2])
                    tname = st[3].text
                    if tname not in type_ids:
                        raise s.err(f"unknown type {tname!r}", "step type", st[3])
                    out_steps.append((OPS["choosemsr"], num, type_ids[tname]))
                elif op == "emit":
                    out_steps.append((OPS["emit"], 0, 0))
                elif op == "noop":
                    out_steps.append((OPS["noop"], 0, 0))
                elif op in OPS and op.startswith("set_"):
                    out_steps.append((OPS[op], int(st[1].text), 0))
                else:
                    raise s.err(f"unknown step {op!r}", "step", st[0])
            except DumpFormatError:
                raise
            except IndexError:
                raise s.err("step too short", "step", st[0]) from None
            except ValueError:
                raise s.err("bad number in step", "step", st[0]) from None
        rules[rid] = Rule(rid, name, rid, int(fields.get("type", 1)), fields.get("min_size"),
                          fields.get("max_size"), tuple(out_steps))
    try:
        return CrushMap(devices=devices, types=types, buckets=buckets, rules=rules, tunables=tunables,
                        choose_args=choose_args, max_devices=compute_max_devices(devices, buckets),
                        class_bucket=class_bucket)
    except DumpFormatError as e:
        raise e.located(source=source) from None


#: how many words each rule step has (``step`` not counted): ``take X [class C]``, ``choose[leaf] MODE N type T``,
#: ``choosemsr N type T``, ``emit``, ``noop``; every ``set_*`` step has one number
_STEP_WORDS = {"take": (2, 4), "choose": (5,), "chooseleaf": (5,), "choosemsr": (4,), "emit": (1,), "noop": (1,)}


def _dependency_order(raw_buckets: list[_RawBucket], s: _Stream) -> list[_RawBucket]:
    """The buckets ordered so that each comes after the buckets it holds, as crushtool's compiler orders them.

    crushtool accepts a bucket that holds a bucket defined further down; it refuses a bucket that holds
    itself (``item 'X' in bucket 'X' is not defined``) and a cycle (``bucket 'X' and bucket 'Y' are
    included each other``): both are a DumpFormatError here, naming the buckets and the line.
    Otherwise the text order is kept (depth-first, held buckets first).
    """
    by_name: dict[str, _RawBucket] = {}
    for rb in raw_buckets:
        if rb.name in by_name:
            raise s.err(f"duplicate name {rb.name!r}", "bucket name", rb.tok)
        by_name[rb.name] = rb
    out: list[_RawBucket] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = placed
    for start in raw_buckets:
        if state.get(start.name):
            continue
        state[start.name] = 1
        stack: list[tuple[_RawBucket, int]] = [(start, 0)]
        while stack:
            rb, pos = stack[-1]
            if pos == len(rb.items):
                state[rb.name] = 2
                out.append(rb)
                stack.pop()
                continue
            stack[-1] = (rb, pos + 1)
            iname, _w, _p, itok = rb.items[pos]
            child = by_name.get(iname)
            if child is None:
                continue
            if child is rb:
                raise s.err(f"bucket {rb.name!r} holds itself (crushtool: item {iname!r} in bucket {rb.name!r} "
                            "is not defined)", "item", itok)
            if state.get(iname) == 1:
                path = [b.name for b, _ in stack]
                cycle = " -> ".join(path[path.index(iname):] + [iname])
                raise s.err(f"bucket hierarchy has a cycle: {cycle} (crushtool: bucket {rb.name!r} and bucket "
                            f"{iname!r} are included each other)", "item", itok)
            if not state.get(iname):
                state[iname] = 1
                stack.append((child, 0))
    return out


def _build_shadows(buckets: dict[int, Bucket], devices: dict[int, tuple[str, str | None]],
                   classes: list[str], class_bucket: dict[int, dict[str, int]]) -> None:
    """Clone every root per device class like ``CrushWrapper::populate_classes`` (in place)."""
    used_ids = {v for m in class_bucket.values() for v in m.values()}
    children = {it for b in buckets.values() for it in b.items if it < 0}
    roots = sorted(bid for bid in buckets if bid not in children)
    by_name = {b.name: b.id for b in buckets.values()}

    def clone(orig: int, cls: str, depth: int) -> int:
        if depth > len(buckets) + 1:
            raise DumpFormatError("bucket hierarchy has a cycle", field="buckets")
        ob = buckets[orig]
        name = f"{ob.name}~{cls}"
        if name in by_name:
            return by_name[name]
        items: list[int] = []
        weights: list[int] = []
        for it, w in zip(ob.items, ob.weights, strict=False):
            if it >= 0:
                if devices.get(it, ("", None))[1] == cls:
                    items.append(it)
                    weights.append(w)
            else:
                cid = clone(it, cls, depth + 1)
                items.append(cid)
                weights.append(buckets[cid].weight)
        nid = class_bucket.get(orig, {}).get(cls)
        if nid is None:
            nid = -1
            while nid in buckets or nid in used_ids:
                nid -= 1
        used_ids.add(nid)
        class_bucket.setdefault(orig, {})[cls] = nid
        buckets[nid] = Bucket(nid, name, ob.type_id, ob.alg, ob.hash, tuple(items), tuple(weights),
                              sum(weights) & 0xFFFFFFFF)
        by_name[name] = nid
        return nid

    for root in roots:
        for cls in classes:
            clone(root, cls, 0)
