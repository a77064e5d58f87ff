package dev.continuum.api;

import dev.continuum.IntegrationTest;
import dev.continuum.model.ReferenceCompletionsAccess;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A first run with no model configured serves the stories260K embedded in the jar, and it is the real model:
 * its greedy completions over HTTP equal llama.cpp's for the same model (the reference is read from ../shared,
 * the model is not).
 */
@QuarkusTest
@TestProfile(DefaultModelProfile.class)
@IntegrationTest
class DefaultModelTest {
    @BeforeEach
    void ready() {
        await().atMost(Duration.ofSeconds(60)).until(() -> given().get("/health").statusCode() == 200);
    }

    @Test
    void servesTheEmbeddedModelUnderItsName() {
        assertEquals("embedded:stories260K", ConfigProvider.getConfig().getValue("continuum.model", String.class),
                "no %test override reaches this server");
        given().get("/health").then().statusCode(200).body("model", equalTo("stories260K"));
        given().get("/v1/models").then().statusCode(200)
                .body("data[0].id", equalTo("stories260K"))
                .body("data[0].vocab_size", equalTo(512))
                .body("data[0].context_length", equalTo(512));
    }

    @Test
    void greedyCompletionsEqualLlamaCppsForStories260K() {
        for (var ref : ReferenceCompletionsAccess.stories260k()) {
            given().contentType(ContentType.JSON)
                    .body(Map.of("prompt", ref.prompt(), "max_tokens", ref.maxTokens(), "temperature", 0))
                    .post("/v1/completions")
                    .then().statusCode(200)
                    .body("model", equalTo("stories260K"))
                    .body("choices[0].text", equalTo(ref.completionText()))
                    .body("usage.prompt_tokens", equalTo(ref.promptIds().length))
                    .body("usage.completion_tokens", equalTo(ref.completionIds().length));
        }
    }
}
