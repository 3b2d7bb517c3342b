"""DynamoDB items at rest in the state store: a table keeps its recently touched items in memory.

moto keeps every item of every table as an `Item` of `DynamoType`s for as long as it exists:
~5 KB per job record, the largest part of what the engine still grew by per job once S3 keys
rested (tracemalloc over a run of jobs). The state store already holds each item's row, written
through after every put, update and delete, so an item the store can rebuild exactly need not
stay.

A table with a hash key only (MediaFlow's jobs table) keeps the items it touched last awake
(`AWAKE_ITEMS_PER_TABLE`: written, or woken from rest). When one falls out of that window it is
put to rest: nothing of it stays in memory, not even its key (a key and an index entry per job
were what the engine still grew by once items rested as markers). A key the table's dict does
not hold rests exactly when the store has its row; the item is rebuilt from that row the next
time moto asks for it by key (GetItem, PutItem's condition, UpdateItem, DeleteItem), and a
deleted item's row goes at once. A Scan walks every row, rebuilding resting items for the walk
without waking them, as moto's own Scan walks every item. Tables with a range key stay in memory
as moto keeps them.

A Query on a global secondary index would walk (and rebuild) every item too: moto answers it by
sorting the whole table. The status page lists jobs that way every few seconds, newest first, a
page at a time. So the awake items' GSI sort keys are kept in order, the resting ones' are an
expression index over the rows (state_store.ItemOrder: string keys only; a table with another
kind of GSI keeps its items awake), and moto's Query gets the union of both pages (the page it
asked for and one item beyond, which tells moto there is a next page); moto then answers as it
always does. Queries this cannot narrow exactly (a range condition, a legacy filter, no Limit, a
key of another type) walk every item.

Every write to a table and every waking and resting holds one lock: an item is never put to rest
between an UpdateItem's change and its write-through, and a conditional write is atomic.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from moto.dynamodb.models import table as table_models
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from sortedcontainers import SortedList

from mediaflow.moto_patches.at_rest import AtRest, AwakeWindow, marker_for, open_store
from mediaflow.state_store import ItemOrder, StateStore

_log = logging.getLogger(__name__)

AWAKE_ITEMS_PER_TABLE = 200  # ~1 MB of job records: every job in flight and the page's first pages

# Held by every item write (moto_patches' write-through wraps them), waking and resting.
LOCK = threading.RLock()

_current_store: Callable[[], StateStore | None] = lambda: None  # noqa: E731

# The items a narrowed Query hands moto instead of the whole table (this thread's call only).
_candidates: ContextVar[list[Item] | None] = ContextVar("query_candidates", default=None)

original_table_init = table_models.Table.__init__
original_query = table_models.Table.query
original_all_items = table_models.Table.all_items
original_len = table_models.Table.__len__

_SORTABLE_TYPES = ("S", "N")  # key types whose order here is moto's (cast values: str, Decimal)


class _IndexOrder:
    """One GSI's items in its order (hash, range, the table's hash), sort keys only, grouped by
    the index's hash value."""

    def __init__(self, hash_attr: str, range_attr: str) -> None:
        self.hash_attr, self.range_attr = hash_attr, range_attr
        self._groups: dict[Any, SortedList] = {}
        self._entry_of: dict[Any, tuple[Any, tuple[Any, Any, str]]] = {}  # table hash -> (group, entry)
        self.usable = True  # False once an item's key could not be ordered as moto orders it

    def place(self, table_hash: DynamoType, attrs: dict[str, DynamoType] | None) -> None:
        self.remove(table_hash)
        if attrs is None or self.hash_attr not in attrs or self.range_attr not in attrs:
            return  # a sparse index: moto's Query skips an item without both keys too
        index_hash, index_range = attrs[self.hash_attr], attrs[self.range_attr]
        if index_hash.type not in _SORTABLE_TYPES or index_range.type not in _SORTABLE_TYPES:
            self.usable = False
            return
        group = index_hash.cast_value
        entry = (index_range.cast_value, table_hash.cast_value, table_hash.value)
        try:
            self._groups.setdefault(group, SortedList()).add(entry)
        except TypeError:  # one range key a string, another a number: not ordered here
            self.usable = False
            return
        self._entry_of[table_hash.cast_value] = (group, entry)

    def remove(self, table_hash: DynamoType) -> None:
        placed = self._entry_of.pop(table_hash.cast_value, None)
        if placed is not None:
            group, entry = placed
            self._groups[group].remove(entry)
            if not self._groups[group]:
                del self._groups[group]

    def page(self, index_hash: DynamoType, start: dict[str, Any] | None, forward: bool, count: int) -> list[str]:
        """The table hash values of the `count` items after `start` (ExclusiveStartKey) in the
        Query's direction, and of the start item itself (moto skips it, as it skips every item
        up to it)."""
        group = self._groups.get(index_hash.cast_value)
        if not group:
            return []
        if start is None:
            entries = group[:count] if forward else group[-count:]
        else:
            at = (DynamoType(start[self.range_attr]).cast_value, DynamoType(start["__table_hash"]).cast_value)
            position = group.bisect_left(at)
            if forward:
                entries = group[position : position + count + 1]
            else:
                end = position + 1 if position < len(group) and group[position][:2] == at else position
                entries = group[max(0, end - count - 1) : end]
        return [entry[2] for entry in entries]


class RestingItems(dict):  # type: ignore[type-arg]
    """A hash-only table's items (hash value -> Item) whose items rest in the state store once
    they are not among the table's last `AWAKE_ITEMS_PER_TABLE` touched.

    A resting item keeps nothing in memory, not even its key: the store's row is its entry. A
    key the dict does not hold is at rest exactly when the store the table rests in
    (`_resting`) has a row for it; lookups, membership, the item count, a Scan and a narrowed
    Query ask it. Only a table whose every GSI the store can order (`stored_orders`: string keys)
    lets items rest.
    """

    def __init__(self, table: Any) -> None:
        super().__init__()
        self.table_name: str = table.name
        self.hash_attr: str = table.hash_key_attr
        self.hash_type: str = table.hash_key_type
        self._awake = AwakeWindow(lambda: AWAKE_ITEMS_PER_TABLE, self._rest, "DynamoDB item")
        self._resting: AtRest | None = None  # the store this table's resting items are rows of
        self._indexed: AtRest | None = None  # the store whose rows have the orders' indexes
        self.orders: dict[str, _IndexOrder] = {}  # the awake items' places in each GSI
        self.stored_orders: dict[str, ItemOrder] = {}  # the same orders over the store's rows
        types = {definition["AttributeName"]: definition["AttributeType"] for definition in table.attr}
        self.can_rest = True
        for index in table.global_indexes:
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if len(hashes) == 1 and len(ranges) == 1:  # the shape the narrowed Query knows
                self.orders[index.name] = _IndexOrder(hashes[0], ranges[0])
                stored = ItemOrder(self.table_name, hashes[0], ranges[0], self.hash_attr)
                names = (hashes[0], ranges[0], self.hash_attr)
                if stored.plain() and all(types.get(name) == "S" for name in names):
                    self.stored_orders[index.name] = stored
                    continue
            self.can_rest = False  # moto's walk must see this index's items: they stay awake

    # -- what moto does to a table's items ---------------------------------------------------

    def __setitem__(self, hash_key: DynamoType, item: Item) -> None:
        with LOCK:
            dict.__setitem__(self, hash_key, item)
            self.reindex(hash_key)
            self._touch(hash_key)

    def __getitem__(self, hash_key: DynamoType) -> Item:
        try:
            return dict.__getitem__(self, hash_key)
        except KeyError:
            return self._wake(hash_key)

    def __contains__(self, hash_key: object) -> bool:
        if dict.__contains__(self, hash_key):
            return True
        store = open_store(self._resting)
        return (
            isinstance(hash_key, DynamoType)
            and store is not None
            and store.has_item(self.table_name, self._key(hash_key))
        )

    def __len__(self) -> int:  # DescribeTable's item count
        store = open_store(self._resting)
        resting = [] if store is None else store.item_keys(self.table_name)
        return len(set(dict.keys(self)).union(DynamoType(key[self.hash_attr]) for key in resting))

    def get(self, hash_key: DynamoType, default: Any = None) -> Any:
        try:
            return self[hash_key]
        except KeyError:
            return default

    def pop(self, hash_key: DynamoType, *default: Any) -> Any:
        with LOCK:
            if hash_key not in self:
                if default:
                    return default[0]
                raise KeyError(hash_key)
            item = self[hash_key]  # a resting one is woken first
            dict.__delitem__(self, hash_key)
            self._awake.forget(hash_key)
            for order in self.orders.values():
                order.remove(hash_key)
            store = open_store(self._resting)
            if store is not None:  # at once: its row would otherwise say it rests
                store.delete_item(self.table_name, self._key(hash_key))
            return item

    def __delitem__(self, hash_key: DynamoType) -> None:
        self.pop(hash_key)

    def values(self) -> Iterator[Item]:  # type: ignore[override]
        """Every item (a Scan): resting ones rebuilt from their rows without waking them."""
        awake = dict(self)
        store = open_store(self._resting)
        for attributes in () if store is None else store.table_items(self.table_name):
            hash_key = DynamoType(attributes[self.hash_attr])
            item = awake.pop(hash_key, None)
            if item is None:  # resting, or woken since the snapshot: the awake one then
                item = dict.get(self, hash_key)
            yield item if item is not None else Item(hash_key, None, as_moto_parses(attributes))
        yield from awake.values()  # awake ones the store has no row for

    def items(self) -> Iterator[tuple[DynamoType, Item]]:  # type: ignore[override]
        for item in self.values():
            yield item.hash_key, item

    def __deepcopy__(self, memo: dict[int, Any]) -> RestingItems:
        # moto copies a whole table for a backup, or before a transaction to roll back to: a
        # copy of every item as it is now (a backup must not follow later writes to the rows).
        # The ones resting here come first in the copy's window, to rest again first.
        twin = RestingItems.__new__(RestingItems)
        dict.__init__(twin)
        twin.table_name, twin.hash_attr, twin.hash_type = self.table_name, self.hash_attr, self.hash_type
        twin.orders = copy.deepcopy(self.orders, memo)
        twin.stored_orders, twin.can_rest = dict(self.stored_orders), self.can_rest
        twin._resting = twin._indexed = None
        resting = []
        for item in self.values():
            if dict.__contains__(self, item.hash_key):
                dict.__setitem__(twin, item.hash_key, copy.deepcopy(item, memo))
            else:
                dict.__setitem__(twin, item.hash_key, item)
                resting.append(item.hash_key)
                twin.reindex(item.hash_key)
        twin._awake = self._awake.copy(twin._rest, first=resting)
        return twin

    # -- at rest -----------------------------------------------------------------------------

    def peek(self, hash_key: DynamoType) -> Item | None:
        """The item, rebuilt from its row if it rests, without waking it."""
        item = dict.get(self, hash_key)
        if item is not None:
            return item
        store = open_store(self._resting)
        return None if store is None else self._from_row(hash_key, store)

    def reindex(self, hash_key: DynamoType) -> None:
        """Place the item in every GSI's order again (after an UpdateItem changed it in place)."""
        item = dict.get(self, hash_key)
        for order in self.orders.values():
            order.place(hash_key, item.attrs if item is not None else None)

    def rest_in(self, store: StateStore) -> None:
        """Every row `store` holds for this table is a resting item of it (a restart restoring
        the table): nothing is read or built until moto asks for one."""
        if not self.can_rest:
            raise ValueError(f"table {self.table_name} keeps its items awake: a GSI the store cannot order")
        with LOCK:
            self._index_in(store)
            self._resting = marker_for(store)

    def restored(self, attributes: dict[str, Any]) -> None:
        """A row restored at rest: an index key of another type than the order's (which moto's
        own Query would still find) leaves that index to moto's walk."""
        for name, order in self.orders.items():
            for attribute in (order.hash_attr, order.range_attr):
                if attribute in attributes and "S" not in attributes[attribute]:
                    order.usable = False
                    _log.info("GSI %s of %s: a key not a string, its Query walks the table", name, self.table_name)

    def _index_in(self, store: StateStore) -> None:
        if self._indexed is None or self._indexed.store is not store:
            for stored in self.stored_orders.values():
                store.index_items_by(stored)
            self._indexed = marker_for(store)

    def _key(self, hash_key: DynamoType) -> dict[str, Any]:
        return {self.hash_attr: hash_key.to_json()}

    def _from_row(self, hash_key: DynamoType, store: StateStore) -> Item | None:
        attributes = None if store.closed else store.item(self.table_name, self._key(hash_key))
        return None if attributes is None else Item(hash_key, None, as_moto_parses(attributes))

    def _wake(self, hash_key: DynamoType) -> Item:
        with LOCK:
            if dict.__contains__(self, hash_key):  # woken by another thread meanwhile
                return dict.__getitem__(self, hash_key)
            store = open_store(self._resting)
            item = None if store is None else self._from_row(hash_key, store)
            if item is None:
                raise KeyError(hash_key)
            dict.__setitem__(self, hash_key, item)
            self.reindex(hash_key)
            self._touch(hash_key)
            return item

    def _touch(self, hash_key: DynamoType) -> None:
        with LOCK:
            self._awake.touch(hash_key)

    def _rest(self, hash_key: DynamoType) -> None:
        store = _current_store()
        item = dict.get(self, hash_key)
        if store is None or store.closed or type(item) is not Item or not self.can_rest:
            return
        if self._resting is not None and self._resting.store is not store:
            return  # this table's items rest in another store (which a test switched from)
        # Only an item its row rebuilds exactly: one written by a path the store does not follow
        # (none in MediaFlow) stays awake.
        rebuilt = self._from_row(hash_key, store)
        if rebuilt is None or rebuilt != item:
            return
        self._index_in(store)
        self._resting = marker_for(store)
        dict.__delitem__(self, hash_key)
        for order in self.orders.values():
            order.remove(hash_key)


def as_moto_parses(value: Any) -> Any:
    """Typed JSON as stored (binary values in base64, as on the wire) as moto's request parser
    hands it to the table: binary values as bytes."""
    if isinstance(value, list):
        return [as_moto_parses(element) for element in value]
    if not isinstance(value, dict):
        return value
    typed: dict[str, Any] = {}
    for name, inner in value.items():
        if name == "B" and isinstance(inner, str):
            typed[name] = base64.b64decode(inner)
        elif name == "BS" and isinstance(inner, list) and all(isinstance(v, str) for v in inner):
            typed[name] = [base64.b64decode(v) for v in inner]
        else:
            typed[name] = as_moto_parses(inner)
    return typed


# -- moto's Table, patched --------------------------------------------------------------------


def _table_init(self: Any, *args: Any, **kwargs: Any) -> None:
    original_table_init(self, *args, **kwargs)
    if self.range_key_attr is None:
        self.items = RestingItems(self)


def _narrowed(table: Any, hash_key: Any, index_name: str | None, query: dict[str, Any]) -> list[Item] | None:
    """The items a Query needs, when they can be named without walking the table; else None."""
    items: RestingItems = table.items
    if index_name is None:  # the table's own hash key: one item at most
        item = items.get(hash_key) if hash_key is not None else None
        return [item] if item is not None else []
    order = items.orders.get(index_name)
    conditions = query["hash_key_conditions"] or []
    limit, start = query["limit"], query["exclusive_start_key"]
    if (
        order is None
        or not order.usable
        or index_name not in {index.name for index in table.global_indexes}
        or query["range_comparison"]
        or query["range_key_conditions"]
        or query["filter_kwargs"]
        or not isinstance(limit, int)
        or limit < 1
        or len(conditions) != 1
        or conditions[0][0] != order.hash_attr
        or conditions[0][1].type not in _SORTABLE_TYPES
    ):
        return None
    if start is not None:
        names = (order.hash_attr, order.range_attr, items.hash_attr)
        if any(name not in start for name in names) or DynamoType(start[order.hash_attr]) != conditions[0][1]:
            return None  # moto's own answer to a start key of another page
        start = {**start, "__table_hash": start[items.hash_attr]}
    forward = query["scan_index_forward"] is not False
    # The awake items' page and the resting ones' (rows include awake items: read once): their
    # union holds the page of the merged order and the one item beyond, and moto sorts it.
    values = dict.fromkeys(order.page(conditions[0][1], start, forward, limit + 1))
    store = open_store(items._resting)
    if store is not None:
        from_rows = _stored_page(items, index_name, conditions[0][1], start, forward, limit + 1, store)
        if from_rows is None:
            return None
        values.update(dict.fromkeys(from_rows))
    candidates = []
    for value in values:
        item = items.peek(DynamoType({table.hash_key_type: value}))
        if item is not None and order.range_attr in item.attrs:
            candidates.append(item)
    # In the index's order (moto's sort is stable: equal sort keys keep the order given here).
    candidates.sort(key=lambda item: (item.attrs[order.range_attr].cast_value, item.hash_key.cast_value))
    return candidates


def _stored_page(
    items: RestingItems,
    index_name: str,
    index_hash: DynamoType,
    start: dict[str, Any] | None,
    forward: bool,
    count: int,
    store: StateStore,
) -> list[str] | None:
    """The resting items' part of a page, from the order's index over the rows (None: the
    store cannot answer it, and moto walks the table)."""
    stored = items.stored_orders.get(index_name)
    if stored is None or index_hash.type != "S":
        return None
    at = None
    if start is not None:
        range_start, hash_start = start[stored.range_attr], start["__table_hash"]
        if set(range_start) != {"S"} or set(hash_start) != {"S"}:
            return None
        at = (range_start["S"], hash_start["S"])
        count += 1  # the start item itself comes first (moto skips it), as in `_IndexOrder.page`
    return store.index_page(stored, index_hash.value, at, forward, count)


def _query(
    self: Any,
    hash_key: Any,
    range_comparison: Any,
    range_objs: Any,
    limit: Any,
    exclusive_start_key: Any,
    scan_index_forward: Any,
    projection_expressions: Any,
    index_name: Any = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: Any = None,
    range_key_conditions: Any = None,
    **filter_kwargs: Any,
) -> Any:
    candidates = None
    if isinstance(self.items, RestingItems):
        query = {
            "limit": limit,
            "exclusive_start_key": exclusive_start_key,
            "scan_index_forward": scan_index_forward,
            "range_comparison": range_comparison,
            "hash_key_conditions": hash_key_conditions,
            "range_key_conditions": range_key_conditions,
            "filter_kwargs": filter_kwargs,
        }
        candidates = _narrowed(self, hash_key, index_name, query)
    token = _candidates.set(candidates)
    try:
        return original_query(
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )
    finally:
        _candidates.reset(token)


def _all_items(self: Any) -> list[Item]:
    candidates = _candidates.get()
    if candidates is not None:
        return candidates
    return original_all_items(self)


def _len(self: Any) -> int:
    if isinstance(self.items, RestingItems):
        return len(self.items)  # the items' keys, resting ones read from the store: nothing rebuilt
    return original_len(self)


def keep_items_in(store_of: Callable[[], StateStore | None]) -> None:
    """Items go to rest in the store `store_of()` answers at the time (none: they stay awake)."""
    global _current_store
    _current_store = store_of


def apply() -> None:
    table_models.Table.__init__ = _table_init
    table_models.Table.query = _query
    table_models.Table.all_items = _all_items
    table_models.Table.__len__ = _len
