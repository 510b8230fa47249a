//! GitHub Actions expressions, as far as the recipes use them: `success()`, `failure()`,
//! `always()`, `steps.ID.outputs.NAME`, `secrets.NAME`, `vars.NAME`, string literals, `==`,
//! `!=`, `!`, `&&`, `||` and parentheses. Anything else panics, naming it, so that a recipe
//! cannot use what this test would evaluate wrongly.

use std::collections::HashMap;

/// What an expression can see.
pub struct Context<'a> {
    /// Whether an earlier step of the job failed.
    pub failed: bool,
    /// Each step's outputs, by step id.
    pub outputs: &'a HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Bool(bool),
    Text(String),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Text(t) => !t.is_empty(),
        }
    }

    fn text(self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Text(t) => t,
        }
    }

    /// The runner compares strings ignoring case.
    fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }
    }
}

/// An `if:` condition: without a status function the runner reads it as
/// `success() && (condition)`.
pub fn condition(source: Option<&str>, cx: &Context) -> bool {
    let Some(source) = source else {
        return !cx.failed;
    };
    let source = source
        .trim()
        .trim_start_matches("${{")
        .trim_end_matches("}}");
    let status = ["success()", "failure()", "always()", "cancelled()"]
        .iter()
        .any(|f| source.contains(f));
    let value = evaluate(source, cx).truthy();
    if status {
        value
    } else {
        !cx.failed && value
    }
}

/// A value with `${{ … }}` in it, each replaced by what it evaluates to.
pub fn interpolate(text: &str, cx: &Context) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("an unclosed ${{{{ in {text:?}"));
        out.push_str(&evaluate(&rest[start + 3..start + end], cx).text());
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

fn evaluate(source: &str, cx: &Context) -> Value {
    let tokens = tokens(source);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        cx,
    };
    let value = parser.or();
    assert!(
        parser.at == tokens.len(),
        "cannot read the expression {source:?}"
    );
    value
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Text(String),
    Op(&'static str),
}

fn tokens(source: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if c.is_whitespace() {
            i += 1;
        } else if let Some(op) = ["==", "!=", "&&", "||"].into_iter().find(|op| *op == two) {
            out.push(Token::Op(op));
            i += 2;
        } else if let Some(op) = ["!", "(", ")"].into_iter().find(|op| op.starts_with(c)) {
            out.push(Token::Op(op));
            i += 1;
        } else if c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&c| c == '\'')
                .unwrap_or_else(|| panic!("an unclosed string in {source:?}"));
            out.push(Token::Text(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_alphanumeric() || c == '_' {
            let len = chars[i..]
                .iter()
                .position(|c| !(c.is_alphanumeric() || "_-.".contains(*c)))
                .unwrap_or(chars.len() - i);
            out.push(Token::Name(chars[i..i + len].iter().collect()));
            i += len;
        } else {
            panic!("the recipe test cannot read {c:?} in the expression {source:?}");
        }
    }
    out
}

struct Parser<'t, 'c> {
    tokens: &'t [Token],
    at: usize,
    cx: &'c Context<'c>,
}

impl Parser<'_, '_> {
    fn next_is(&mut self, op: &'static str) -> bool {
        if self.tokens.get(self.at) == Some(&Token::Op(op)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Value {
        let mut left = self.and();
        while self.next_is("||") {
            let right = self.and();
            left = if left.truthy() { left } else { right };
        }
        left
    }

    fn and(&mut self) -> Value {
        let mut left = self.comparison();
        while self.next_is("&&") {
            let right = self.comparison();
            left = if left.truthy() { right } else { left };
        }
        left
    }

    fn comparison(&mut self) -> Value {
        let left = self.unary();
        if self.next_is("==") {
            Value::Bool(left.equals(&self.unary()))
        } else if self.next_is("!=") {
            Value::Bool(!left.equals(&self.unary()))
        } else {
            left
        }
    }

    fn unary(&mut self) -> Value {
        if self.next_is("!") {
            return Value::Bool(!self.unary().truthy());
        }
        if self.next_is("(") {
            let value = self.or();
            assert!(self.next_is(")"), "an unclosed ( in an expression");
            return value;
        }
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Text(t)) => Value::Text(t),
            Some(Token::Name(name)) => self.name(&name),
            other => panic!("the recipe test cannot read {other:?} in an expression"),
        }
    }

    fn name(&mut self, name: &str) -> Value {
        if self.next_is("(") {
            assert!(self.next_is(")"), "{name}() takes no arguments here");
            return Value::Bool(match name {
                "success" => !self.cx.failed,
                "failure" => self.cx.failed,
                "always" => true,
                "cancelled" => false,
                _ => panic!("the recipe test does not know the function {name}()"),
            });
        }
        let parts: Vec<&str> = name.split('.').collect();
        match parts.as_slice() {
            ["steps", id, "outputs", output] => Value::Text(
                self.cx
                    .outputs
                    .get(*id)
                    .and_then(|o| o.get(*output))
                    .cloned()
                    .unwrap_or_default(),
            ),
            ["secrets", secret] => Value::Text(format!("secret-{secret}")),
            ["vars", var] => Value::Text(variable(var)),
            _ => panic!("the recipe test does not know `{name}`: add it to tests/recipes/expr.rs"),
        }
    }
}

/// The repository variables the recipes read.
pub fn variable(name: &str) -> String {
    match name {
        "DCS_INSTANCE_ID" => "5560df16-cebf-4473-95c4-d8b0ba1ab0e6".into(),
        "PROJECT_ID" => "0123456789abcdef0123456789abcdef".into(),
        _ => panic!("the recipe test does not know the variable {name}"),
    }
}

#[test]
fn expressions_read_as_the_runner_reads_them() {
    let mut outputs = HashMap::new();
    outputs.insert(
        "swap".to_string(),
        HashMap::from([("exit_code".to_string(), "3".to_string())]),
    );
    let ok = Context {
        failed: false,
        outputs: &outputs,
    };
    let failed = Context {
        failed: true,
        outputs: &outputs,
    };
    assert!(condition(None, &ok));
    assert!(!condition(None, &failed));
    assert!(condition(Some("steps.swap.outputs.exit_code == '3'"), &ok));
    // No status function: success() && (…), so it does not run after a failure.
    assert!(!condition(
        Some("steps.swap.outputs.exit_code == '3'"),
        &failed
    ));
    assert!(condition(
        Some("failure() && steps.swap.outputs.exit_code != ''"),
        &failed
    ));
    assert!(!condition(
        Some("failure() && steps.none.outputs.x != ''"),
        &failed
    ));
    assert!(condition(Some("${{ always() }}"), &failed));
    assert!(condition(
        Some("!(steps.swap.outputs.exit_code == '0')"),
        &ok
    ));
    assert_eq!(
        interpolate(
            "id ${{ steps.swap.outputs.exit_code }}, ${{ vars.PROJECT_ID }}",
            &ok
        ),
        "id 3, 0123456789abcdef0123456789abcdef"
    );
}
