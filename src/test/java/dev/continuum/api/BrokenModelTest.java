package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/** A model that fails to load leaves the server up, unhealthy, and answering 503 with the reason. */
@QuarkusTest
@TestProfile(BrokenModelProfile.class)
@IntegrationTest
class BrokenModelTest {
    @Test
    void healthAndApiAnswer503WithTheLoadError() {
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/health").path("status").equals("failed"));
        given().get("/health").then().statusCode(503)
                .body("error", containsString("not a GGUF file"));
        given().contentType("application/json").body(Map.of("prompt", "hi")).post("/v1/completions")
                .then().statusCode(503)
                .header("Retry-After", equalTo("1"))
                .body("error.message", containsString("failed to load"))
                .body("error.type", equalTo("service_unavailable"));
        given().get("/v1/models").then().statusCode(503);
    }
}
