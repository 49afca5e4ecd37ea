#!/usr/bin/env node
// Prints a fresh X25519 key pair for sealing OTP codes: OTP_SEAL_PUBLIC_KEY goes to consumer-auth,
// OTP_SEAL_PRIVATE_KEY to otp-delivery only (see infra/README.md, "Trust model").
import { generateKeyPairSync } from "node:crypto";

const { privateKey, publicKey } = generateKeyPairSync("x25519");
process.stdout.write(`OTP_SEAL_PUBLIC_KEY=${publicKey.export({ format: "jwk" }).x}\n`);
process.stdout.write(`OTP_SEAL_PRIVATE_KEY=${privateKey.export({ format: "jwk" }).d}\n`);
