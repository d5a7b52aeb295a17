# Independent re-implementation of the WGP1U construction (docs/invite-format.md).
import hashlib, hmac, base64, struct, datetime
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes, serialization
def key(b): return bytes((b+i) & 0xff for i in range(32))
raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
a, b = X25519PrivateKey.from_private_bytes(key(0x11)), X25519PrivateKey.from_private_bytes(key(0x22))
A, B = a.public_key().public_bytes(*raw), b.public_key().public_bytes(*raw)
psk = key(0x44)
to = hashlib.sha256(b"wgpunch update receiver v1\x00" + B).digest()[:8]
issued = int(datetime.datetime(2026,12,2,21,0,tzinfo=datetime.timezone.utc).timestamp()*1000)
signed = A + to + struct.pack(">QI", issued, 7*24*3600) + bytes([1,6,203,0,113,9]) + struct.pack(">H", 51820)
dh = a.exchange(X25519PublicKey.from_public_bytes(B))
assert dh == b.exchange(X25519PublicKey.from_public_bytes(A))
label = b"wgpunch update v1"
K = HKDF(algorithm=hashes.SHA256(), length=32, salt=label, info=label + b" mac\x00" + A + B).derive(dh + psk)
mac = hmac.new(K, signed, hashlib.sha256).digest()[:16]
payload = signed + mac
frame = struct.pack(">H", len(payload)) + payload + hashlib.sha256(b"WGP1U" + payload).digest()[:4]
print("WGP1U-" + base64.b32encode(frame).decode().rstrip("="))
print(payload.hex())
