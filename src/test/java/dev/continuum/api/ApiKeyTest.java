package dev.continuum.api;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

/**
 * With API keys set, every route but the probes answers 401 in OpenAI's shape without a configured key (here also
 * /metrics, as configured), and works with any one of them; CORS answers only the configured origin.
 */
@QuarkusTest
@TestProfile(ApiKeyProfile.class)
@IntegrationTest
class ApiKeyTest {
    private static final String COMPLETION = "{\"prompt\":\"Once\",\"max_tokens\":2}";

    @BeforeEach
    void ready() {
        SharedTestData.require("models/stories260K.gguf");
        await().atMost(Duration.ofSeconds(30)).until(() -> given().get("/health/ready").statusCode() == 200);
    }

    private static RequestSpecification as(String key) {
        return given().header("Authorization", "Bearer " + key);
    }

    @Test
    void everyRouteButTheProbesNeedsAKey() {
        for (String path : List.of("/v1/models", "/metrics", "/q/metrics", "/q/openapi")) {
            given().get(path).then().statusCode(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("error.type", equalTo("invalid_request_error"))
                    .body("error.code", equalTo("invalid_api_key"));
        }
        given().contentType("application/json").body(COMPLETION).post("/v1/completions").then().statusCode(401)
                .body("error.code", equalTo("invalid_api_key"));
        given().contentType("application/json").body("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .post("/v1/chat/completions").then().statusCode(401);
        given().contentType("application/json").body("{\"prompt\":\"Once\"}").post("/tokenize").then()
                .statusCode(401);
        for (String probe : List.of("/health", "/health/live", "/health/ready", "/health/started")) {
            given().get(probe).then().statusCode(200);
        }
    }

    @Test
    void aWrongOrMalformedKeyIsRefused() {
        as("sk-listed-012345678").get("/v1/models").then().statusCode(401);
        as(ApiKeyProfile.LISTED_KEY + "x").get("/v1/models").then().statusCode(401);
        given().header("Authorization", ApiKeyProfile.LISTED_KEY).get("/v1/models").then().statusCode(401);
        given().header("Authorization", "Basic " + ApiKeyProfile.LISTED_KEY).get("/v1/models").then()
                .statusCode(401);
        as("").get("/v1/models").then().statusCode(401);
    }

    @Test
    void anyConfiguredKeyIsAccepted() {
        for (String key : List.of(ApiKeyProfile.LISTED_KEY, "sk-another-one", ApiKeyProfile.FILE_KEY)) {
            as(key).get("/v1/models").then().statusCode(200);
            as(key).contentType("application/json").body(COMPLETION).post("/v1/completions").then().statusCode(200)
                    .body("choices[0].finish_reason", equalTo("length"));
            as(key).get("/metrics").then().statusCode(200);
        }
    }

    @Test
    void aPreflightFromTheConfiguredOriginIsAllowedWithoutAKey() {
        given().header("Origin", ApiKeyProfile.ORIGIN).header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type")
                .options("/v1/chat/completions").then().statusCode(204)
                .header("Access-Control-Allow-Origin", ApiKeyProfile.ORIGIN)
                .header("Access-Control-Allow-Headers", "authorization,content-type");
        as(ApiKeyProfile.LISTED_KEY).header("Origin", ApiKeyProfile.ORIGIN).get("/v1/models").then().statusCode(200)
                .header("Access-Control-Allow-Origin", ApiKeyProfile.ORIGIN);
    }

    @Test
    void aPreflightFromAnotherOriginIsRefused() {
        given().header("Origin", "https://evil.example").header("Access-Control-Request-Method", "POST")
                .options("/v1/chat/completions").then().statusCode(403)
                .header("Access-Control-Allow-Origin", nullValue());
        as(ApiKeyProfile.LISTED_KEY).header("Origin", "https://evil.example").get("/v1/models").then()
                .statusCode(200).header("Access-Control-Allow-Origin", nullValue());
    }
}
