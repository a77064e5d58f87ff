package dev.continuum.server;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

/** {@code /health} turns 200 once the (tiny dummy) model is loaded and warmed up. */
@QuarkusTest
class HealthResourceTest {
    @Test
    void healthBecomesOkOnceTheModelIsLoaded() {
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/health").statusCode() == 200);
        given().get("/health").then().statusCode(200)
                .body("status", equalTo("ok"))
                .body("model", org.hamcrest.Matchers.not(org.hamcrest.Matchers.emptyOrNullString()));
    }
}
