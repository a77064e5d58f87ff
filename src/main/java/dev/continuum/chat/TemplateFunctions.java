package dev.continuum.chat;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Global functions Hugging Face exposes to chat templates, bound into Jinjava as static methods. */
final class TemplateFunctions {

    private TemplateFunctions() {}

    /** raise_exception(msg): templates call it to reject conversations they cannot format. */
    static Object raiseException(String message) {
        throw new TemplateRaisedException(message == null ? "raise_exception called" : message);
    }

    /** strftime_now(fmt): Llama 3.x templates stamp today's date into the system prompt. */
    static String strftimeNow(String pythonFormat) {
        LocalDateTime now = LocalDateTime.now();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pythonFormat.length(); i++) {
            char c = pythonFormat.charAt(i);
            if (c != '%' || i + 1 == pythonFormat.length()) {
                out.append(c);
                continue;
            }
            char directive = pythonFormat.charAt(++i);
            out.append(switch (directive) {
                case 'd' -> format(now, "dd");
                case 'm' -> format(now, "MM");
                case 'Y' -> format(now, "yyyy");
                case 'y' -> format(now, "yy");
                case 'b' -> format(now, "MMM");
                case 'B' -> format(now, "MMMM");
                case 'a' -> format(now, "EEE");
                case 'A' -> format(now, "EEEE");
                case 'H' -> format(now, "HH");
                case 'M' -> format(now, "mm");
                case 'S' -> format(now, "ss");
                case '%' -> "%";
                default -> "%" + directive;
            });
        }
        return out.toString();
    }

    private static String format(LocalDateTime time, String pattern) {
        return DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(time);
    }
}
