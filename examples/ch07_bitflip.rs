//! Chapter 7: encryption without authentication lets an attacker change a message it
//! cannot read. Run it with `cargo run --example ch07_bitflip`.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;

type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

fn main() {
    // ANCHOR: bitflip
    let key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    let fernet = fernet::Fernet::new(key).expect("a valid key");
    let token = fernet.encrypt(b"Dear bank, pls: pay taro 100 yen");

    // An attacker on the path flips one bit of the first ciphertext block. In CBC
    // mode that flips the same bit of the *second* plaintext block: '1' (0x31)
    // becomes '9' (0x39).
    let mut bytes = URL_SAFE.decode(&token).expect("a token is base64");
    let ciphertext_start = 1 + 8 + 16; // version, timestamp, IV
    bytes[ciphertext_start + 9] ^= b'1' ^ b'9';
    let tampered = URL_SAFE.encode(&bytes);

    // Without the MAC: decrypt with the encryption half of the key, as a careless
    // receiver would.
    let key_bytes = URL_SAFE.decode(key).expect("a key is base64");
    let (iv, rest) = bytes[9..].split_at(16);
    let ciphertext = &rest[..rest.len() - 32]; // drop the HMAC, unchecked
    let decryptor = Aes128CbcDec::new_from_slices(&key_bytes[16..], iv)
        .expect("16-byte key and IV");
    match decryptor.decrypt_padded_vec_mut::<Pkcs7>(ciphertext) {
        Ok(plain) => {
            println!("without the MAC: {:?}", String::from_utf8_lossy(&plain))
        }
        Err(_) => println!("without the MAC: bad padding"),
    }

    // With the MAC (Fernet): the change is detected and the token refused.
    match fernet.decrypt(&tampered) {
        Ok(plain) => {
            println!("with the MAC:    {:?}", String::from_utf8_lossy(&plain))
        }
        Err(_) => println!("with the MAC:    rejected, the HMAC does not match"),
    }
    // ANCHOR_END: bitflip
}
