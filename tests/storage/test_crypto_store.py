"""The bot's encryption keys in its own database (SQLite and PostgreSQL): what nio saves
comes back identical after a restart, changes are written only when flushed, and a
failed write loses nothing."""

from __future__ import annotations

from nio import AsyncClient, AsyncClientConfig
from nio.crypto import InboundGroupSession, OlmDevice, OutboundGroupSession, TrustState

from bot.encryption import Encryption
from storage.db import Database

USER, DEVICE = "@oasis:test.org", "BOTDEVICE"


def _client() -> AsyncClient:
    nio = AsyncClient("http://127.0.0.1:1", USER, config=AsyncClientConfig(encryption_enabled=True))
    nio.restore_login(USER, DEVICE, "token")  # no store_path: nio loads no store of its own
    return nio


async def _loaded(db: Database) -> Encryption:
    crypto = Encryption(_client(), db)
    await crypto.load()
    return crypto


async def test_keys_survive_a_restart(db: Database) -> None:
    first = await _loaded(db)
    identity = first.olm.account.identity_keys
    # A member's room key, a device of theirs and the trust given to it, an encrypted room.
    outbound = OutboundGroupSession()
    outbound.shared = True
    inbound = InboundGroupSession(outbound.session_key, "ed-key", "curve-key", "!room:test.org")
    first.olm.inbound_group_store.add(inbound)
    first.olm.save_inbound_group_session(inbound)
    device = OlmDevice("@alice:test.org", "ALICEPHONE", {"ed25519": "ed-key", "curve25519": "curve-key"})
    first.olm.store.save_device_keys({"@alice:test.org": {"ALICEPHONE": device}})
    first.olm.store.ignore_devices([device])
    first.olm.store.save_encrypted_rooms({"!room:test.org"})
    ciphertext = outbound.encrypt('{"type": "m.room.message", "content": {"body": "!ping"}}')
    await first.flush()

    again = await _loaded(db)
    assert again.olm.account.identity_keys == identity
    restored = again.olm.inbound_group_store.get("!room:test.org", "curve-key", inbound.id)
    assert restored is not None
    plaintext, _ = restored.decrypt(ciphertext)
    assert "!ping" in plaintext
    alice = again.olm.device_store["@alice:test.org"]["ALICEPHONE"]
    assert alice.trust_state == TrustState.ignored
    assert again.nio.encrypted_rooms == {"!room:test.org"}


async def test_changes_wait_for_the_flush_and_a_failed_write_keeps_them(db: Database) -> None:
    crypto = await _loaded(db)
    assert crypto.store is not None and not crypto.store.dirty  # the new account: written at load
    crypto.olm.store.save_encrypted_rooms({"!a:test.org"})
    assert crypto.store.dirty
    assert (await _loaded(db)).nio.encrypted_rooms == set()  # not written yet
    changes = crypto.store.take_changes()
    crypto.store.give_back(changes)  # as after a failed transaction
    await crypto.flush()
    assert (await _loaded(db)).nio.encrypted_rooms == {"!a:test.org"}
