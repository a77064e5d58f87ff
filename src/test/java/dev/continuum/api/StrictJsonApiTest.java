package dev.continuum.api;

import dev.continuum.IntegrationTest;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

/**
 * The generation endpoints take JSON text and nothing else: bad bytes, lone surrogates, trailing data, duplicate
 * keys and other media types are refused in OpenAI's error shape; wrong methods answer 405 with Allow;
 * GET /v1/models/{id} answers the served model's card or 404.
 */
@QuarkusTest
@IntegrationTest
class StrictJsonApiTest {
    private static final List<String> PATHS = List.of("/v1/completions", "/v1/chat/completions");

    @BeforeEach
    void ready() {
        CompletionApiTest.awaitReady();
    }

    private static String valid(String path) {
        return path.endsWith("chat/completions")
                ? "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 2}"
                : "{\"prompt\": \"Once\", \"max_tokens\": 2}";
    }

    private static void bad(String path, byte[] body, String message) {
        given().contentType("application/json").body(body).post(path)
                .then().statusCode(400).contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.param", nullValue())
                .body("error.message", containsString(message));
    }

    @Test
    void bodiesThatAreNotJsonTextAre400() {
        for (String path : PATHS) {
            String ok = valid(path);
            byte[] utf8 = ok.getBytes(StandardCharsets.UTF_8);
            byte[] broken = ok.replace("2}", "2, \"user\": \"XX\"}").getBytes(StandardCharsets.UTF_8);
            int x = new String(broken, StandardCharsets.UTF_8).indexOf("XX");
            broken[x] = (byte) 0xC3; // a lead byte followed by an ASCII byte: not UTF-8
            bad(path, broken, "UTF-8");
            byte[] latin1 = ok.replace("2}", "2, \"user\": \"caf\u00e9\"}").getBytes(StandardCharsets.ISO_8859_1);
            bad(path, latin1, "UTF-8");
            bad(path, ok.replace("2}", "2, \"user\": \"\\ud800\"}").getBytes(StandardCharsets.UTF_8), "surrogate");
            bad(path, ok.replace("2}", "2, \"user\": \"a\\udc00b\"}").getBytes(StandardCharsets.UTF_8), "surrogate");
            bad(path, (ok + " {\"prompt\": \"x\"}").getBytes(StandardCharsets.UTF_8), "malformed JSON");
            bad(path, (ok + " garbage").getBytes(StandardCharsets.UTF_8), "malformed JSON");
            bad(path, ok.replace("2}", "2, \"max_tokens\": 3}").getBytes(StandardCharsets.UTF_8), "Duplicate");
            // A surrogate pair written as escapes is one character and fine.
            given().contentType("application/json").body(ok.replace("2}", "2, \"user\": \"\\ud83d\\ude00\"}")
                    .getBytes(StandardCharsets.UTF_8)).post(path).then().statusCode(200);
            given().contentType("application/json").body(utf8).post(path).then().statusCode(200);
        }
    }

    @Test
    void onlyJsonInUtf8IsAccepted() {
        for (String path : PATHS) {
            byte[] body = valid(path).getBytes(StandardCharsets.UTF_8);
            for (String type : List.of("text/plain", "application/xml",
                    "application/json; charset=iso-8859-1", "application/jsonl")) {
                given().contentType(type).body(body).post(path).then().statusCode(415)
                        .contentType(ContentType.JSON)
                        .body("error.type", equalTo("invalid_request_error"))
                        .body("error.code", equalTo("unsupported_media_type"));
            }
            given().noContentType().body(body).post(path).then().statusCode(415)
                    .body("error.message", containsString("Content-Type"));
            for (String type : List.of("application/json", "application/json; charset=utf-8",
                    "Application/JSON; charset=\"UTF-8\"")) {
                given().contentType(type).body(body).post(path).then().statusCode(200);
            }
        }
    }

    /** The tokenizer routes read bodies the same way, and refuse fields they do not take. */
    @Test
    void tokenizeAndDetokenizeAreJustAsStrict() {
        for (String[] route : new String[][] {{"/tokenize", "{\"prompt\": \"Once\"}"},
                {"/detokenize", "{\"tokens\": [403, 407]}"}}) {
            String path = route[0];
            String ok = route[1];
            given().contentType("application/json").body(ok).post(path).then().statusCode(200);
            given().contentType("text/plain").body(ok).post(path).then().statusCode(415)
                    .body("error.code", equalTo("unsupported_media_type"));
            bad(path, (ok + " garbage").getBytes(StandardCharsets.UTF_8), "malformed JSON");
            bad(path, ok.replace("{", "{\"model\": \"\\ud800\", ").getBytes(StandardCharsets.UTF_8), "surrogate");
            given().contentType("application/json").body(ok.replace("{", "{\"temperature\": 1, ")).post(path)
                    .then().statusCode(400)
                    .body("error.param", equalTo("temperature"))
                    .body("error.message", containsString("unknown field 'temperature'"));
        }
    }

    @Test
    void otherMethodsAre405WithAllow() {
        for (String path : PATHS) {
            for (String method : List.of("GET", "PUT", "DELETE", "PATCH")) {
                given().request(method, path).then().statusCode(405)
                        .header("Allow", "POST")
                        .contentType(ContentType.JSON)
                        .body("error.type", equalTo("invalid_request_error"))
                        .body("error.message", containsString(method));
            }
        }
    }

    @Test
    void modelsRetrieveAnswersTheCardOr404() {
        String id = given().get("/v1/models").then().statusCode(200).extract().path("data[0].id");
        given().get("/v1/models/" + id).then().statusCode(200)
                .body("id", equalTo(id))
                .body("object", equalTo("model"))
                .body("owned_by", equalTo("continuum"))
                .body("max_model_len", equalTo(512));
        given().get("/v1/models/gpt-4o").then().statusCode(404).contentType(ContentType.JSON)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("model_not_found"))
                .body("error.param", equalTo("model"))
                .body("error.message", containsString("gpt-4o"));
        given().get("/v1/models/org/other-model").then().statusCode(404)
                .body("error.code", equalTo("model_not_found"));
    }
}
