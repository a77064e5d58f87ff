package dev.continuum.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Python-flavoured Jinja that HF templates lean on, each construct rendered on its own. */
class PythonismsTest {

    private static final List<ChatMessage> MESSAGES = List.of(
            new ChatMessage("system", "  Be brief. \n"),
            new ChatMessage("user", "Hello world"));

    private static String render(String template) {
        return ChatTemplate.of(template, "<s>", "</s>").render(MESSAGES, true);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " ==> ", quoteCharacter = '"', value = {
        "{{ messages[0].content.strip() }} ==> Be brief.",
        "{{ messages[0].content.lstrip() }} ==> \"Be brief. \n\"",
        "{{ messages[0].content.rstrip() }} ==> \"  Be brief.\"",
        "{{ 'xxhixx'.strip('x') }} ==> hi",
        "{{ messages[1].content.upper() }} ==> HELLO WORLD",
        "{{ messages[1].content.lower() }} ==> hello world",
        "{{ 'hello world'.title() }} ==> Hello World",
        "{{ 'hELLO'.capitalize() }} ==> Hello",
        "{{ messages[1].content.startswith('Hell') }} ==> true",
        "{{ messages[1].content.startswith('world') }} ==> false",
        "{{ messages[1].content.endswith('world') }} ==> true",
        "{{ messages[1]['content'].split(' ')[1] }} ==> world",
        "{{ '  a  b '.split() | length }} ==> 2",
        "{{ 'a,b,c'.split(',', 1)[1] }} ==> b,c",
        "{{ 'aaa'.replace('a', 'b', 2) }} ==> bba",
        "{{ '-'.join(['a', 'b']) }} ==> a-b",
        "{{ messages[0].content | trim }} ==> Be brief.",
        "{{ messages | length }} ==> 2",
        "{{ messages[1:] | length }} ==> 1",
        "{% for m in messages %}{{ loop.index0 }}{{ loop.first }}{{ loop.last }};{% endfor %} ==> 0truefalse;1falsetrue;",
        "{% for k, v in messages[1].items() %}{{ k }}={{ v }};{% endfor %} ==> role=user;content=Hello world;",
        "{% set ns = namespace(seen=false) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.seen }} ==> true",
        "{{ tools is defined }}/{{ messages is defined }} ==> false/true",
        "{{ messages[1] | tojson }} ==> \"{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"Hello world\"\"}\"",
        "{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }} ==> <s></s>true",
        "{{ 'a' + 'b' | upper }} ==> aB",
        "{{ 'a\\nb' }} ==> \"a\nb\"",
        "{% for m in messages[::-1] %}{{ m.role }};{% endfor %} ==> user;system;",
        "{{ '[::-1]' }}[::-1] ==> [::-1][::-1]",
        "{% set ns = namespace(a=1, last=messages|length - 1) %}{{ ns.last }}/{{ ns.a }} ==> 1/1",
        "{% set ns = namespace(x=[1, 2] | length + 1, y='a=b,c') %}{{ ns.x }}{{ ns.y }} ==> 3a=b,c",
        "{{ (messages|length == 2) }}/{{ 1 != 2 }}/{{ 1 <= 2 }} ==> true/true/true",
        "{{ messages[1] | tojson(indent=2) | length > 10 }} ==> true",
        "{{ strftime_now is defined }}/{{ raise_exception is defined }}/{{ date_string is defined }} ==> true/true/false",
    })
    void rendersLikeJinja(String template, String expected) {
        assertEquals(expected, render(template));
    }

    @Test
    void whitespaceControlTrimsAroundTagsAndExpressions() {
        assertEquals("[a][b]", render("""
                {%- for m in ['a', 'b'] %}
                    {{- '[' + m + ']' }}
                {%- endfor %}
                """));
    }

    @Test
    void blockTagsSwallowTheirLineLikeHfTrimAndLstripBlocks() {
        // Indented tags and the newline after each disappear; the template's final newline is dropped as Jinja does.
        assertEquals("x\ny", render("""
                {% if true %}
                x
                    {% endif %}
                y
                """));
    }

    @Test
    void tojsonIndentsLikePythonJsonDumps() {
        assertEquals("{\n  \"role\": \"user\",\n  \"content\": \"Hello world\"\n}",
                render("{{ messages[1] | tojson(indent=2) }}"));
    }

    @Test
    void tojsonEscapesQuotesAndControlCharactersButKeepsUnicode() {
        assertEquals("\"\\\"h\\u00e9\\\"\\n\\u0001\"".replace("\\u00e9", "é"),
                render("{{ '\"hé\"\\n\u0001' | tojson }}"));
    }
}
