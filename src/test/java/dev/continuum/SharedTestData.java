package dev.continuum;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the shared test data (models, tokenizer vectors, reference outputs) outside the project. A test
 * whose data is absent is skipped with the reason, except on CI ({@code CI=true}) where it fails instead.
 */
public final class SharedTestData {
    private SharedTestData() {
    }

    /** The shared directory: system property {@code continuum.shared.dir}, else {@code ../shared}. */
    public static Path dir() {
        return Path.of(System.getProperty("continuum.shared.dir", "../shared"));
    }

    /** The path of a shared file or directory; skips (or, on CI, fails) the calling test when it is absent. */
    public static Path require(String relative) {
        Path path = dir().resolve(relative);
        if (!Files.exists(path)) {
            String reason = "shared test data " + path.toAbsolutePath().normalize()
                    + " is absent (set -Dcontinuum.shared.dir to its directory)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(reason);
            }
            Assumptions.assumeTrue(false, reason);
        }
        return path;
    }
}
