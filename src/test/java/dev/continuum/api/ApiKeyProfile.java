package dev.continuum.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Two keys, one from continuum.api-key and one from a key file; /metrics behind a key; one CORS origin. */
public class ApiKeyProfile implements QuarkusTestProfile {
    static final String LISTED_KEY = "sk-listed-0123456789";
    static final String FILE_KEY = "sk-from-file-abcdef";
    static final String ORIGIN = "https://chat.example.com";

    @Override
    public Map<String, String> getConfigOverrides() {
        try {
            Path file = Files.createTempFile("continuum-keys", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, "# one key per line\n\n" + FILE_KEY + "\n");
            return Map.of("continuum.api-key", LISTED_KEY + ",sk-another-one",
                    "continuum.api-key-file", file.toString(),
                    "continuum.metrics-require-key", "true",
                    "continuum.cors-origins", ORIGIN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
