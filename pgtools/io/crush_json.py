"""Build a :class:`~pgtools.crush.map.CrushMap` from ``ceph osd crush dump -f json``."""

from __future__ import annotations

from typing import Any

from ..crush.buckets import ALG_IDS, Bucket
from ..crush.map import CrushMap, compute_max_devices
from ..crush.rule import OP_NAMES, OPS, RULE_TYPES, ChooseArg, Rule, Tunables
from ..errors import DumpFormatError, UnsupportedFeatureError

__all__ = ["crushmap_from_dump"]


def _get(d: Any, key: str, kind: type | tuple[type, ...], source: str, fld: str, default: Any = ...) -> Any:
    if not isinstance(d, dict):
        raise DumpFormatError("expected an object", source=source, field=fld.rsplit(".", 1)[0] or fld)
    if key not in d:
        if default is not ...:
            return default
        raise DumpFormatError("missing key", source=source, field=fld)
    v = d[key]
    if kind is int or kind == (int,):
        if isinstance(v, bool) or not isinstance(v, int):
            raise DumpFormatError(f"expected an integer, got {type(v).__name__}", source=source, field=fld)
    elif not isinstance(v, kind):
        raise DumpFormatError(f"expected {getattr(kind, '__name__', kind)}, got {type(v).__name__}",
                              source=source, field=fld)
    return v


def _to16(v: Any, source: str, fld: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DumpFormatError("expected a number", source=source, field=fld)
    f = float(v)
    if not (0 <= f < 65536.0):
        raise DumpFormatError(f"weight {v!r} out of range", source=source, field=fld)
    return int(round(f * 0x10000))


def crushmap_from_dump(d: Any, *, source: str = "<string>") -> CrushMap:
    """Parse the decoded JSON of ``ceph osd crush dump`` into a CrushMap.

    Parameters
    ----------
    d : dict
        The decoded JSON object (``devices``, ``types``, ``buckets``, ``rules``, ``tunables``,
        ``choose_args``).
    source : str
        Name used in error messages.

    Returns
    -------
    CrushMap

    Raises
    ------
    DumpFormatError
        Missing keys, wrong types, unknown algorithms or references to missing buckets.
    UnsupportedFeatureError
        A hash other than rjenkins1.
    """
    if not isinstance(d, dict):
        raise DumpFormatError("expected a JSON object", source=source)
    devices: dict[int, tuple[str, str | None]] = {}
    for i, dev in enumerate(_get(d, "devices", list, source, "devices")):
        did = _get(dev, "id", int, source, f"devices[{i}].id")
        name = _get(dev, "name", str, source, f"devices[{i}].name")
        cls = _get(dev, "class", str, source, f"devices[{i}].class", None)
        devices[did] = (name, cls)
    types: dict[int, str] = {}
    for i, t in enumerate(_get(d, "types", list, source, "types")):
        types[_get(t, "type_id", int, source, f"types[{i}].type_id")] = _get(t, "name", str, source,
                                                                             f"types[{i}].name")
    type_ids = {v: k for k, v in types.items()}
    buckets: dict[int, Bucket] = {}
    for i, b in enumerate(_get(d, "buckets", list, source, "buckets")):
        f = f"buckets[{i}]"
        bid = _get(b, "id", int, source, f + ".id")
        if bid >= 0:
            raise DumpFormatError(f"bucket id {bid} must be negative", source=source, field=f + ".id")
        alg_name = _get(b, "alg", str, source, f + ".alg")
        if alg_name not in ALG_IDS:
            raise DumpFormatError(f"unknown bucket algorithm {alg_name!r}", source=source, field=f + ".alg")
        hname = _get(b, "hash", (str, int), source, f + ".hash")
        if hname not in ("rjenkins1", 0):
            raise UnsupportedFeatureError(f"{source}: bucket {bid}: hash {hname!r} is not supported")
        items, weights = [], []
        entries = _get(b, "items", list, source, f + ".items")
        for j, it in enumerate(entries):
            items.append(_get(it, "id", int, source, f"{f}.items[{j}].id"))
            w = _get(it, "weight", int, source, f"{f}.items[{j}].weight")
            if not 0 <= w <= 0xFFFFFFFF:
                raise DumpFormatError("weight out of range", source=source, field=f"{f}.items[{j}].weight")
            weights.append(w)
        if any("pos" in it for it in entries):
            order = sorted(range(len(entries)), key=lambda j: (entries[j].get("pos", j)
                                                               if isinstance(entries[j].get("pos", j), int)
                                                               else j))
            items = [items[j] for j in order]
            weights = [weights[j] for j in order]
        bweight = _get(b, "weight", int, source, f + ".weight", sum(weights) & 0xFFFFFFFF)
        buckets[bid] = Bucket(
            id=bid, name=_get(b, "name", str, source, f + ".name"),
            type_id=_get(b, "type_id", int, source, f + ".type_id"), alg=ALG_IDS[alg_name], hash=0,
            items=tuple(items), weights=tuple(weights), weight=bweight)
    rules: dict[int, Rule] = {}
    for i, r in enumerate(_get(d, "rules", list, source, "rules")):
        f = f"rules[{i}]"
        rid = _get(r, "rule_id", int, source, f + ".rule_id")
        rtype = _get(r, "type", (int, str), source, f + ".type")
        if isinstance(rtype, str):
            if rtype not in RULE_TYPES:
                raise DumpFormatError(f"unknown rule type {rtype!r}", source=source, field=f + ".type")
            rtype = RULE_TYPES[rtype]
        steps = []
        for j, s in enumerate(_get(r, "steps", list, source, f + ".steps")):
            sf = f"{f}.steps[{j}]"
            if isinstance(s, dict) and "op" not in s and "opcode" in s:
                # steps the dumper has no name for are printed raw (e.g. set_chooseleaf_vary_r)
                op = _get(s, "opcode", int, source, sf + ".opcode")
                if op not in OP_NAMES:
                    raise UnsupportedFeatureError(f"{source}: {sf}: rule opcode {op} is not supported")
                steps.append((op, _get(s, "arg1", int, source, sf + ".arg1", 0),
                              _get(s, "arg2", int, source, sf + ".arg2", 0)))
                continue
            opname = _get(s, "op", str, source, sf + ".op")
            if opname not in OPS:
                raise DumpFormatError(f"unknown rule step {opname!r}", source=source, field=sf + ".op")
            op = OPS[opname]
            if opname == "take":
                steps.append((op, _get(s, "item", int, source, sf + ".item"), 0))
            elif opname in ("choose_firstn", "choose_indep", "chooseleaf_firstn", "chooseleaf_indep", "choosemsr"):
                num = _get(s, "num", int, source, sf + ".num")
                tname = _get(s, "type", (str, int), source, sf + ".type")
                if isinstance(tname, int):
                    tid = tname
                elif tname in type_ids:
                    tid = type_ids[tname]
                else:
                    raise DumpFormatError(f"unknown type {tname!r}", source=source, field=sf + ".type")
                steps.append((op, num, tid))
            elif opname.startswith("set_"):
                steps.append((op, _get(s, "num", int, source, sf + ".num"), 0))
            else:
                steps.append((op, 0, 0))
        rules[rid] = Rule(
            id=rid, name=_get(r, "rule_name", str, source, f + ".rule_name", f"rule{rid}"),
            ruleset=_get(r, "ruleset", int, source, f + ".ruleset", None), type=rtype,
            min_size=_get(r, "min_size", int, source, f + ".min_size", None),
            max_size=_get(r, "max_size", int, source, f + ".max_size", None), steps=tuple(steps))
    tun_d = _get(d, "tunables", dict, source, "tunables", {})
    base = Tunables.profile("argonaut")
    kw = {}
    for name in Tunables.__dataclass_fields__:
        if name in tun_d:
            kw[name] = _get(tun_d, name, int, source, f"tunables.{name}")
    tunables = Tunables(**{**base.__dict__, **kw})
    choose_args: dict[int, dict[int, ChooseArg]] = {}
    ca_d = _get(d, "choose_args", dict, source, "choose_args", {})
    for key, entries in ca_d.items():
        try:
            ikey = int(key)
        except ValueError:
            raise DumpFormatError(f"choose_args key {key!r} is not an integer", source=source,
                                  field="choose_args") from None
        if not isinstance(entries, list):
            raise DumpFormatError("expected a list", source=source, field=f"choose_args.{key}")
        cmap: dict[int, ChooseArg] = {}
        for j, e in enumerate(entries):
            f = f"choose_args.{key}[{j}]"
            bid = _get(e, "bucket_id", int, source, f + ".bucket_id")
            ids = _get(e, "ids", list, source, f + ".ids", None)
            if ids is not None:
                for k, v in enumerate(ids):
                    if isinstance(v, bool) or not isinstance(v, int):
                        raise DumpFormatError("expected an integer", source=source, field=f"{f}.ids[{k}]")
            ws = _get(e, "weight_set", list, source, f + ".weight_set", None)
            wset = None
            if ws is not None:
                rows = []
                for p, row in enumerate(ws):
                    if not isinstance(row, list):
                        raise DumpFormatError("expected a list", source=source, field=f"{f}.weight_set[{p}]")
                    rows.append(tuple(_to16(v, source, f"{f}.weight_set[{p}]") for v in row))
                wset = tuple(rows) or None
            cmap[bid] = ChooseArg(ids=tuple(ids) if ids is not None else None, weight_set=wset)
        choose_args[ikey] = cmap
    # shadow buckets: "<name>~<class>"
    by_name = {b.name: b.id for b in buckets.values()}
    class_bucket: dict[int, dict[str, int]] = {}
    for b in buckets.values():
        if "~" in b.name:
            orig, cls = b.name.split("~", 1)
            if orig in by_name:
                class_bucket.setdefault(by_name[orig], {})[cls] = b.id
    for rid, r in rules.items():
        for op, a1, _ in r.steps:
            if op == OPS["take"] and a1 < 0 and a1 not in buckets:
                raise DumpFormatError(f"rule {rid} takes missing bucket {a1}", source=source,
                                      field="rules.steps.item")
    try:
        cm = CrushMap(devices=devices, types=types, buckets=buckets, rules=rules, tunables=tunables,
                      choose_args=choose_args, max_devices=compute_max_devices(devices, buckets),
                      class_bucket=class_bucket)
    except DumpFormatError as e:
        raise e.located(source=source) from None
    return cm
