package dev.continuum.server;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

/** {@code /health} turns 200 once the test model (stories260K from the shared data) is loaded and warmed up. */
@QuarkusTest
@IntegrationTest
class HealthResourceTest {
    @Test
    void healthBecomesOkOnceTheModelIsLoaded() {
        SharedTestData.require("models/stories260K.gguf");
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/health").statusCode() == 200);
        given().get("/health").then().statusCode(200)
                .body("status", equalTo("ok"))
                .body("model", org.hamcrest.Matchers.not(org.hamcrest.Matchers.emptyOrNullString()));
    }
}
