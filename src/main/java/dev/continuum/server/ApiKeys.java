package dev.continuum.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The API keys a request may present as {@code Authorization: Bearer <key>}. Only their SHA-256 hashes are kept,
 * and a presented key is hashed and compared with {@link MessageDigest#isEqual} against every one, so the time a
 * check takes says nothing about how much of a key matched (nor which key).
 */
public final class ApiKeys {
    private static final String BEARER = "Bearer ";
    private final List<byte[]> hashes;

    private ApiKeys(List<byte[]> hashes) {
        this.hashes = hashes;
    }

    /** The keys of {@code continuum.api-key} and the lines of {@code continuum.api-key-file}; none means open. */
    public static ApiKeys of(Optional<List<String>> keys, Optional<String> file) {
        List<String> all = new ArrayList<>(keys.orElse(List.of()));
        if (file.isPresent()) {
            try {
                for (String line : Files.readAllLines(Path.of(file.get()), StandardCharsets.UTF_8)) {
                    if (!line.isBlank() && !line.strip().startsWith("#")) {
                        all.add(line);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read continuum.api-key-file " + file.get(), e);
            }
        }
        List<byte[]> hashes = new ArrayList<>();
        for (String key : all) {
            if (!key.isBlank()) {
                hashes.add(sha256(key.strip()));
            }
        }
        return new ApiKeys(List.copyOf(hashes));
    }

    /** Whether any key is configured (else every request is let through, as without this feature). */
    public boolean enabled() {
        return !hashes.isEmpty();
    }

    /** Whether {@code authorization} (the header's value, or null) is {@code Bearer} and a configured key. */
    public boolean accepts(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return false;
        }
        byte[] presented = sha256(authorization.substring(BEARER.length()).strip());
        boolean match = false;
        for (byte[] h : hashes) {
            match |= MessageDigest.isEqual(h, presented);
        }
        return match;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
