"""The RFC 6962 Merkle tree: known roots and proofs, and that every honest proof verifies while
any changed bit, index or size is rejected."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.merkle import (
    EMPTY_ROOT,
    TreeFrontier,
    consistency_proof,
    event_leaf_data,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# The test tree of RFC 6962's reference implementation (certificate-transparency) and of
# transparency-dev/merkle: eight leaves, the roots of each prefix, and some of its proofs.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243")] + [
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": ROOTS[3],
    "fac5": ROOTS[1],
    "6e34": ROOTS[0],
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
}
INCLUSION = [  # leaf index, tree size, audit path
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
]
CONSISTENCY = [  # old size, new size, proof
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
]


def hashes(count: int, seed: int = 0) -> list[bytes]:
    return [leaf_hash(seed.to_bytes(4, "big") + i.to_bytes(4, "big")) for i in range(count)]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962's definition of the tree hash, recursively, as the oracle."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def sides(index: int, size: int) -> list[bool]:
    """For each node of PATH(index, size), bottom-up: is the sibling on the right?"""
    if size == 1:
        return []
    k = 1
    while k * 2 < size:
        k *= 2
    if index < k:
        return [*sides(index, k), True]
    return [*sides(index - k, size - k), False]


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def test_the_roots_of_the_reference_tree() -> None:
    leaves = [leaf_hash(data) for data in LEAVES]
    assert tree_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert [tree_root(leaves[:n]).hex() for n in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_the_audit_paths_of_the_reference_tree(index: int, size: int, path: list[str]) -> None:
    leaves = [leaf_hash(data) for data in LEAVES[:size]]
    proof = inclusion_proof(index, leaves)
    assert [p.hex() for p in proof] == [H[p] for p in path]
    assert verify_inclusion(leaves[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_the_consistency_proofs_of_the_reference_tree(old: int, new: int, path: list[str]) -> None:
    leaves = [leaf_hash(data) for data in LEAVES[:new]]
    proof = consistency_proof(old, leaves)
    assert [p.hex() for p in proof] == [H[p] for p in path]
    old_root, new_root = (bytes.fromhex(ROOTS[n - 1]) for n in (old, new))
    assert verify_consistency(old, new, old_root, new_root, proof)


def test_a_leaf_of_the_ledger_is_its_position_then_its_event_hash() -> None:
    event_hash = bytes(range(32))
    assert event_leaf_data(258, event_hash) == bytes([0, 0, 0, 0, 0, 0, 1, 2]) + event_hash
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


@given(st.integers(min_value=0, max_value=300))
def test_the_frontier_root_is_the_tree_hash_at_every_size(size: int) -> None:
    leaves, frontier = hashes(size), TreeFrontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.size == size
    assert frontier.root() == tree_root(leaves) == mth(leaves)


@given(st.data())
def test_every_audit_path_verifies_and_no_other_leaf_index_or_root_does(
    data: st.DataObject,
) -> None:
    size = data.draw(st.integers(min_value=1, max_value=200))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves = hashes(size)
    root, proof = mth(leaves), inclusion_proof(index, leaves)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
    if size > 1:
        assert not verify_inclusion(leaves[index], other, size, proof, root)
        assert not verify_inclusion(leaves[other], index, size, proof, root)
    assert not verify_inclusion(leaves[index], index, size, proof, mth(hashes(size, seed=1)))
    assert not verify_inclusion(leaves[index], size, size, proof, root)
    assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)
    if proof:
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)


@given(st.data())
def test_any_flipped_bit_breaks_an_audit_path(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=200))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves = hashes(size)
    root, proof = mth(leaves), inclusion_proof(index, leaves)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    node = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    forged = [*proof[:node], flip(proof[node], bit), *proof[node + 1 :]]
    assert not verify_inclusion(leaves[index], index, size, forged, root)
    assert not verify_inclusion(flip(leaves[index], bit), index, size, proof, root)
    assert not verify_inclusion(leaves[index], index, size, proof, flip(root, bit))


@given(st.data())
def test_an_audit_path_proves_nothing_about_another_tree_size(data: st.DataObject) -> None:
    """Another size is accepted only with the very same root and the same shape of path: the
    size is bound to the root by the checkpoint's signature, not by the path."""
    size = data.draw(st.integers(min_value=1, max_value=200))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    wrong = data.draw(st.integers(min_value=index + 1, max_value=260).filter(lambda n: n != size))
    leaves = hashes(260)
    proof = inclusion_proof(index, leaves[:size])
    assert not verify_inclusion(leaves[index], index, wrong, proof, mth(leaves[:wrong]))
    same_shape = sides(index, wrong) == sides(index, size)
    assert verify_inclusion(leaves[index], index, wrong, proof, mth(leaves[:size])) == same_shape


@given(st.data())
def test_every_consistency_proof_verifies(data: st.DataObject) -> None:
    new = data.draw(st.integers(min_value=1, max_value=200))
    old = data.draw(st.integers(min_value=0, max_value=new))
    leaves = hashes(new)
    proof = consistency_proof(old, leaves)
    assert verify_consistency(old, new, mth(leaves[:old]), mth(leaves), proof)


@given(st.data())
def test_a_consistency_proof_rejects_any_change(data: st.DataObject) -> None:
    new = data.draw(st.integers(min_value=2, max_value=200))
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    leaves = hashes(new)
    old_root, new_root, proof = mth(leaves[:old]), mth(leaves), consistency_proof(old, leaves)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    node = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    forged = [*proof[:node], flip(proof[node], bit), *proof[node + 1 :]]
    assert not verify_consistency(old, new, old_root, new_root, forged)
    assert not verify_consistency(old, new, flip(old_root, bit), new_root, proof)
    assert not verify_consistency(old, new, old_root, flip(new_root, bit), proof)
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    other_old = data.draw(st.integers(min_value=1, max_value=new).filter(lambda m: m != old))
    assert not verify_consistency(other_old, new, old_root, new_root, proof)
    assert not verify_consistency(new, old, new_root, old_root, proof)


@given(st.data())
def test_a_rewritten_history_has_no_consistency_proof(data: st.DataObject) -> None:
    """A tree whose old part changed is not consistent with the old root, whatever the proof."""
    new = data.draw(st.integers(min_value=2, max_value=200))
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    changed = data.draw(st.integers(min_value=0, max_value=old - 1))
    leaves = hashes(new)
    rewritten = [*leaves[:changed], leaf_hash(b"forged"), *leaves[changed + 1 :]]
    proof = consistency_proof(old, rewritten)
    assert not verify_consistency(old, new, mth(leaves[:old]), mth(rewritten), proof)


def test_proofs_of_leaves_or_sizes_outside_the_tree_are_refused() -> None:
    leaves = hashes(5)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(5, leaves)
    with pytest.raises(ValueError, match="no prefix"):
        consistency_proof(6, leaves)
    assert not verify_inclusion(leaves[0], 0, 0, [], leaves[0])
    assert not verify_consistency(3, 2, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_inclusion(leaves[0], 0, 2, [b"short"], mth(leaves[:2]))
