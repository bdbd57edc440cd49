//! Messages as people write them: Markdown (CommonMark with strikethrough and tables), each line
//! break kept, bare web and email addresses made links. What comes out is sanitized HTML: only
//! text formatting, lists, quotes, code, tables and links survive; headings become bold
//! paragraphs (a message never outranks the page's own headings), images and raw HTML are
//! dropped, and every link opens without giving the portal's address or a handle back to it.

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

/// `text` (Markdown) as safe HTML.
pub fn render(text: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut events = Vec::new();
    let mut in_link = 0usize;
    let mut in_code = false;
    for event in Parser::new_ext(text, options) {
        match event {
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
    CLEAN.clean(&html).to_string()
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
    use super::render;

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
        // Raw HTML is shown as the text it is.
        assert_eq!(render("<b>hi</b>"), "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
    }
}
