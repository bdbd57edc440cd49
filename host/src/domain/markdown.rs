//! Messages as people write them: Markdown (CommonMark with strikethrough and tables), each line
//! break kept, bare web and email addresses made links. What comes out is sanitized HTML: only
//! text formatting, lists, quotes, code, tables and links survive; headings become bold
//! paragraphs (a message never outranks the page's own headings), images and raw HTML are
//! dropped, and every link opens without giving the portal's address or a handle back to it.
//!
//! The work a message causes is bounded, not only its length: a table wider than
//! [`MAX_TABLE_COLUMNS`] is shown as the text it was written as (a parser pads every row to
//! the header's width, so a wide header makes every short line a row of empty cells), and a
//! message whose HTML would grow past [`max_html`] of its length is shown as plain text. A
//! message is rendered once, when it is written, and its HTML is stored with it
//! ([`RENDERER`] says by which rules, so a change of rules renders old messages again).

use ammonia::Builder;
use linkify::{LinkFinder, LinkKind};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use std::collections::HashSet;
use std::sync::LazyLock;

/// The sanitizer: what a message may hold, whatever its Markdown or HTML said.
static CLEAN: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(HashSet::from([
        "p",
        "br",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]))
    .tag_attributes(std::collections::HashMap::from([
        ("a", HashSet::from(["href"])),
        ("ol", HashSet::from(["start"])),
    ]))
    .url_schemes(HashSet::from(["http", "https", "mailto"]))
    .link_rel(Some("noopener noreferrer nofollow"))
    .clean_content_tags(HashSet::from(["script", "style"]));
    b
});

/// The rules messages are rendered by; stored beside each message's HTML. Raise it whenever
/// what [`render`] produces changes, and stored messages are rendered again.
pub const RENDERER: i64 = 2;

/// The widest table shown as a table.
pub const MAX_TABLE_COLUMNS: usize = 20;

/// The most HTML a message of `len` bytes may render to before it is shown as plain text: eight
/// times its length (a bare link becomes about six times as long), and 4 KiB for short ones.
pub fn max_html(len: usize) -> usize {
    len.saturating_mul(8).saturating_add(4096)
}

/// `text` (Markdown) as safe HTML, within [`max_html`] of its length.
pub fn render(text: &str) -> String {
    let html = markdown_html(text);
    if html.len() > max_html(text.len()) {
        return plain(text);
    }
    let clean = CLEAN.clean(&html).to_string();
    if clean.len() > max_html(text.len()) {
        return plain(text);
    }
    clean
}

/// `text` as paragraphs of escaped text with its line breaks kept: what a message that would
/// render too large is shown as.
pub fn plain(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len() + text.len() / 8 + 16);
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in paragraph.lines().enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            escape_into(&mut out, line);
        }
        out.push_str("</p>\n");
    }
    out
}

/// Appends `s` to `out` escaped for HTML text and attribute values.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text` as HTML, before sanitizing.
fn markdown_html(text: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut events = Vec::new();
    let mut in_link = 0usize;
    let mut in_code = false;
    let mut parser = Parser::new_ext(text, options).into_offset_iter();
    while let Some((event, range)) = parser.next() {
        match event {
            // Too wide a table is shown as it was written.
            Event::Start(Tag::Table(columns)) if columns.len() > MAX_TABLE_COLUMNS => {
                for (e, _) in parser.by_ref() {
                    if matches!(e, Event::End(TagEnd::Table)) {
                        break;
                    }
                }
                let source = CowStr::from(text[range].to_owned());
                events.push(Event::Start(Tag::CodeBlock(
                    pulldown_cmark::CodeBlockKind::Indented,
                )));
                events.push(Event::Text(source));
                events.push(Event::End(TagEnd::CodeBlock));
            }
            Event::Start(Tag::Heading { .. }) => {
                events.push(Event::Start(Tag::Paragraph));
                events.push(Event::Start(Tag::Strong));
            }
            Event::End(TagEnd::Heading(_)) => {
                events.push(Event::End(TagEnd::Strong));
                events.push(Event::End(TagEnd::Paragraph));
            }
            // An image stays as its description: the portal shows no pictures from elsewhere.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::SoftBreak => events.push(Event::HardBreak),
            Event::Start(Tag::Link { .. }) => {
                in_link += 1;
                events.push(event);
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                events.push(event);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code = true;
                events.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                events.push(event);
            }
            Event::Text(t) if in_link == 0 && !in_code => linkify(&t, &mut events),
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// `text` as events, its bare web and email addresses made links.
fn linkify<'a>(text: &str, out: &mut Vec<Event<'a>>) {
    for span in LinkFinder::new().spans(text) {
        let piece = CowStr::from(span.as_str().to_owned());
        match span.kind() {
            Some(kind) => {
                let href = match kind {
                    LinkKind::Email => format!("mailto:{}", span.as_str()),
                    _ => span.as_str().to_owned(),
                };
                out.push(Event::Start(Tag::Link {
                    link_type: pulldown_cmark::LinkType::Autolink,
                    dest_url: CowStr::from(href),
                    title: CowStr::from(""),
                    id: CowStr::from(""),
                }));
                out.push(Event::Text(piece));
                out.push(Event::End(TagEnd::Link));
            }
            None => out.push(Event::Text(piece)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_table_is_shown_as_written_and_no_message_renders_far_larger_than_it_is() {
        let narrow = "| a | b |\n|---|---|\n| 1 | 2 |";
        assert!(render(narrow).contains("<table>"));
        // A header of 1,000 columns pads every following line to 1,000 cells.
        let header = "|a".repeat(1000) + "|\n" + &"|-".repeat(1000) + "|\n";
        let wide = header + &"|x\n".repeat((20_000 - 4003) / 3);
        let html = render(&wide);
        assert!(!html.contains("<table>"), "{}", &html[..200]);
        assert!(html.starts_with("<pre><code>|a|a|"), "{}", &html[..200]);
        assert!(html.len() <= max_html(wide.len()), "{}", html.len());
        // Within the column limit, padding still cannot make a message render far larger.
        let header =
            "|a".repeat(MAX_TABLE_COLUMNS) + "|\n" + &"|-".repeat(MAX_TABLE_COLUMNS) + "|\n";
        let padded = header + &"|x\n".repeat(6000);
        let html = render(&padded);
        assert!(html.len() <= max_html(padded.len()), "{}", html.len());
        assert!(
            html.starts_with("<p>|a|a|"),
            "shown as plain text: {}",
            &html[..100]
        );
    }

    #[test]
    fn formatting_lists_and_links() {
        assert_eq!(
            render("**Pump 4** stopped\nat _9:00_.\n\n- one\n- two"),
            "<p><strong>Pump 4</strong> stopped<br>\nat <em>9:00</em>.</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
        assert_eq!(
            render("See https://example.com/a?b=1 or mail ops@example.com."),
            "<p>See <a href=\"https://example.com/a?b=1\" rel=\"noopener noreferrer nofollow\">https://example.com/a?b=1</a> or mail <a href=\"mailto:ops@example.com\" rel=\"noopener noreferrer nofollow\">ops@example.com</a>.</p>\n"
        );
        assert_eq!(
            render("[docs](https://docs.example.com)"),
            "<p><a href=\"https://docs.example.com\" rel=\"noopener noreferrer nofollow\">docs</a></p>\n"
        );
        assert_eq!(render("`a < b`"), "<p><code>a &lt; b</code></p>\n");
    }

    #[test]
    fn nothing_runs_and_nothing_outranks_the_page() {
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "![x](https://evil.example/track.png)",
            "<iframe src=https://evil.example></iframe>",
            "<div onclick=alert(1)>x</div>",
        ] {
            let html = render(hostile);
            // Raw HTML comes out as text, so only real tags and attributes count.
            for bad in [
                "<script",
                "<img",
                "<iframe",
                "<div",
                "<a href=\"javascript",
                "evil.example/track",
            ] {
                assert!(!html.contains(bad), "{hostile} gave {html}");
            }
        }
        assert_eq!(render("# Big"), "<p><strong>Big</strong></p>\n");
        assert_eq!(
            plain("a <b>\nc & 'd'"),
            "<p>a &lt;b&gt;<br>\nc &amp; &#39;d&#39;</p>\n"
        );
        // Raw HTML is shown as the text it is.
        assert_eq!(render("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    }
}
