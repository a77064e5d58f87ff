package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code continuum.backend=cuda} where there is no CUDA driver (this suite's JVM has none): the load fails, /health
 * says why with a 503, and the API refuses rather than serving from the CPU.
 */
@QuarkusTest
@TestProfile(CudaUnavailableProfile.class)
@IntegrationTest
class CudaUnavailableTest {
    @Test
    void healthNamesTheReasonAndNothingIsServed() {
        assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this machine has an NVIDIA driver");
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/health").asString().contains("failed"));
        given().get("/health").then().statusCode(503)
                .body("status", equalTo("failed"))
                .body("error", containsString("--backend cuda, but the CUDA backend is not available: no CUDA driver"));
        given().contentType("application/json").body("{\"prompt\":\"Hi\",\"max_tokens\":2}").post("/v1/completions")
                .then().statusCode(503);
    }
}
