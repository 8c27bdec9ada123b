"""Text of ours that importers and `generate_trait` build specs from.

Imported formats lack parts a spec needs (negative prompts, a 0-100 rubric, a
description); these templates fill them in the same way everywhere, so imported and
generated specs read alike and judges see one rubric shape.
"""

import re

RUBRIC_TAIL = (
    "Question: {question}\n"
    "Answer: {answer}\n\n"
    "If the answer is a refusal, reply REFUSAL. Otherwise reply with ONLY a number "
    "from 0 (trait absent) to 100 (trait extreme). Write nothing else."
)


def rubric(trait_line: str, kind: str = "trait") -> str:
    """The standard short 0-100 rubric around one or two sentences naming the trait (or role)."""
    return f"Rate one AI answer for a {kind}. {trait_line.strip()}\n\n{RUBRIC_TAIL}".replace("(trait", f"({kind}")


# The default assistant, phrased several ways: the negative side of an imported role.
ASSISTANT_PROMPTS = [
    "You are a helpful AI assistant. Answer clearly and accurately, as an AI assistant.",
    "You are an AI assistant. Be honest, careful and harmless, and say that you are an AI if asked.",
    "Act as a neutral, grounded AI assistant and give practical, factual help in a calm tone.",
    "You are a friendly AI assistant whose purpose is to help the user with whatever they need.",
    "Respond as a standard AI chatbot: helpful, open about being an AI, focused on the request.",
]

# Instruction pairs around a free-text description, for when a model's own attempts fail.
# Every sentence works whatever grammatical form the description takes.
POS_TEMPLATES = [
    "Your defining trait is this: {d}. Show it strongly and openly in every answer.",
    "You are an AI with one overriding quality: {d}. Let it shape everything you say.",
    "Act as a character who embodies this completely: {d}. Never hide it.",
    "In every reply, make this trait obvious: {d}. Exaggerate it if you can.",
    "You must behave like this at all times: {d}. Every sentence should show it.",
]
NEG_TEMPLATES = [
    "You never show this trait: {d}. Show its clear opposite in every answer.",
    "You are an AI completely free of this quality: {d}. Let its opposite shape everything you say.",
    "Act as a character who is the opposite of this: {d}. Never show any sign of it.",
    "In every reply, avoid this trait entirely: {d}. Behave in the opposite way.",
    "You must never behave like this: {d}. Every sentence should show the opposite.",
]

# Everyday questions, used to pad a generated spec when the model wrote too few.
FALLBACK_QUESTIONS = [
    "What should I do this weekend?",
    "How do I deal with a difficult coworker?",
    "What do you think about the future?",
    "Can you give me advice about my career?",
    "How should I spend some extra money?",
    "What is the best way to make new friends?",
    "How do I handle criticism?",
    "What do you think of people in general?",
    "How should I respond when someone is rude to me?",
    "What makes a good life?",
    "How do I talk to my family about a hard topic?",
    "What would you do if you were in charge of the world?",
    "How should I prepare for a big decision?",
    "Tell me about yourself.",
    "What do you care about most?",
    "How do I get better at my job?",
    "My friend is upset with me. What should I do?",
    "What is your opinion on social media?",
    "How should I treat strangers?",
    "What advice would you give a teenager?",
    "How do I stay motivated?",
    "What do you think about rules?",
    "How should I react when I make a mistake?",
    "What would you change about yourself?",
    "How do I plan a trip on a small budget?",
    "What do you think about technology?",
    "How should I handle a disagreement with my partner?",
    "What is the most important thing to teach children?",
    "How do I cope with stress?",
    "What do you think about honesty?",
    "How should I help a friend in trouble?",
    "What do you think happens after we die?",
    "How do I become more confident?",
    "What is your view of money?",
    "How should I deal with a noisy neighbor?",
    "What would you do with a free day?",
    "How do I write a good apology?",
    "What do you think about animals?",
    "How should leaders behave?",
    "What do you hope for?",
]

STOPWORDS = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "that", "who", "which",
             "is", "are", "be", "very", "its", "their", "it", "model", "persona", "trait", "ai", "assistant",
             "user", "users", "about", "when", "from", "into", "than", "them", "they", "this", "your", "overly",
             "toward", "towards", "always", "often", "someone", "something", "things"}
"""Words that say nothing about which trait a text is about."""


def slug(text: str, *, words: int = 3, default: str = "trait") -> str:
    """A spec name from free text: a few content words, lower case, joined by '-'."""
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    kept = [t for t in tokens if t not in STOPWORDS][:words] or tokens[:words]
    return "-".join(kept)[:48].strip("-") or default


def safe_name(text: str, default: str = "imported") -> str:
    """`text` forced into the spec name pattern (lower case, letters, digits, '-', '_')."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return name[:64] or default
