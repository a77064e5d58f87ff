package dev.continuum.server;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

/**
 * The three probes on a served model, the engine's heartbeat on /metrics, and the defaults of the security
 * items: no key needed, CORS off (a preflight from any origin refused).
 */
@QuarkusTest
@IntegrationTest
class ProbesTest {
    @BeforeEach
    void ready() {
        SharedTestData.require("models/stories260K.gguf");
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/health/ready").statusCode() == 200);
    }

    @Test
    void liveReadyAndStartedAnswerOnceLoaded() {
        given().get("/health/live").then().statusCode(200).body("status", equalTo("alive"));
        given().get("/health/ready").then().statusCode(200).body("status", equalTo("ok"));
        given().get("/health/started").then().statusCode(200).body("status", equalTo("started"));
        given().get("/health").then().statusCode(200).body("status", equalTo("ok"));
    }

    @Test
    void metricsShowTheEngineHeartbeat() {
        given().get("/metrics").then().statusCode(200)
                .body(containsString("continuum_engine_stalled 0.0"))
                .body(containsString("continuum_engine_since_last_step_seconds "));
    }

    @Test
    void withoutKeysAndOriginsTheApiIsOpenAndCorsOff() {
        given().get("/v1/models").then().statusCode(200);
        given().header("Authorization", "Bearer anything").get("/v1/models").then().statusCode(200);
        given().header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST")
                .options("/v1/completions").then().statusCode(403).header("Access-Control-Allow-Origin", nullValue());
        given().header("Origin", "https://app.example").get("/v1/models").then().statusCode(200)
                .header("Access-Control-Allow-Origin", nullValue());
    }
}
