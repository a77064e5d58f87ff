package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The OpenAPI document the server publishes lints clean with Redocly's recommended rules (no errors, no
 * warnings): operation ids, 4xx responses, a security scheme. Needs npx (npm); skipped without it, except under
 * CI=true, where it fails.
 */
@QuarkusTest
@IntegrationTest
class OpenApiLintTest {
    /** Pinned: a later release may add rules (or need a newer Node) and fail an unchanged document. */
    static final String REDOCLY = "@redocly/cli@2.77.0";

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    @Test
    void publishedDocumentLintsClean() throws Exception {
        Path npx = onPath("npx");
        String document = given().get("/q/openapi").then().statusCode(200).extract().asString();
        Path dir = Files.createDirectories(Path.of("target", "openapi-lint"));
        Path file = dir.resolve("openapi.yaml");
        Files.writeString(file, document, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(npx.toString(), "-y", REDOCLY, "lint", "--format=stylish", file.toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("redocly lint timed out");
        }
        assertEquals(0, p.exitValue(), "redocly lint " + file + ":\n" + output);
        assertFalse(output.matches("(?s).*\\d+ warnings?.*"), "redocly lint warns on " + file + ":\n" + output);
    }

    private static Path onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String reason = tool + " not on PATH (install Node.js/npm)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(reason);
        }
        Assumptions.assumeTrue(false, reason);
        return null;
    }
}
