"""Shared pieces of the benchmarks: the engine (loaded once), timing, prompts.

Timings on a shared machine are noisy, so every comparison runs both sides in
the same process, interleaved, and keeps the best of a few repeats per side.
"""

import gc
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

MODEL = "smollm2"


@lru_cache(maxsize=1)
def engine():
    """The embedded model's engine, loaded once per process (the first load ever
    converts the GGUF file, ~40 s; later loads take about a second)."""
    from personascope.models import load_engine

    e = load_engine(MODEL)
    # The first passes of a process pay one-off costs (allocator, kernel
    # selection); pay them here rather than inside the first timed side.
    e.generate(PROMPTS[:4], max_new_tokens=4, batch_size=4)
    e.capture(PROMPTS[:4], RESPONSES[:4], batch_size=4)
    return e


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of `repeats` calls, and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def interleaved(sides: dict[str, Callable[[], Any]], repeats: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Best wall time per side over `repeats` rounds, each round running every side
    once (so a burst of load from another process hits both sides alike). The
    order rotates each round, so no side always goes first."""
    best = {name: float("inf") for name in sides}
    results: dict[str, Any] = {}
    names = list(sides)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            fn = sides[name]
            t, results[name] = best_of(fn, 1)
            best[name] = min(best[name], t)
            note(f"  {name}: {t:.2f} s")
    return best, results


def report(name: str, ratio: float, detail: str) -> str:
    """Print the benchmark's one result line (ratio > 1: personascope is faster)."""
    line = f"{name}: ratio={ratio:.2f} ({detail})"
    print(line, flush=True)
    return line


CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "neon", "asimd")
"""The CPU features that decide matmul speed and whether bf16 is native."""


def machine() -> str:
    """The CPU model, its count and the flags of `CPU_FLAGS` it has: machines of one kind differ."""
    import os
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and name in ("", platform.machine(), platform.processor()):
                    name = value.strip()
                elif key.strip() in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    have = [f for f in CPU_FLAGS if f in flags]
    return f"{os.cpu_count()} CPUs ({name}; {' '.join(have) or 'no listed flags'})"


def note(text: str) -> None:
    """Progress and diagnostics go to stderr, so stdout holds only result lines."""
    print(text, file=sys.stderr, flush=True)


# Natural chat questions of varied length, written for these benchmarks.
PROMPTS = [
    "What is the capital of Australia?",
    "Can you explain how a rainbow forms?",
    "Give me three tips for sleeping better.",
    "Why is the sky blue?",
    "I have a job interview tomorrow for a junior data analyst role and I'm nervous. "
    "What kinds of questions should I expect, and how should I prepare tonight?",
    "What's the difference between a virus and a bacterium?",
    "Write a haiku about autumn leaves.",
    "How do I make a simple tomato sauce from scratch?",
    "My houseplant's leaves are turning yellow at the edges. I water it twice a week and it "
    "sits near a north-facing window. What could be wrong?",
    "Summarize the plot of Romeo and Juliet in two sentences.",
    "What does a good morning routine look like?",
    "Is it better to rent or buy a home? I'm 29, I live in a mid-sized city, I have some "
    "savings, and I'm not sure whether I'll stay here more than three or four years.",
    "Tell me a fun fact about octopuses.",
    "How does compound interest work?",
    "What should I pack for a weekend hiking trip?",
    "Explain photosynthesis to a ten-year-old.",
    "Hi!",
    "Can you recommend a good book for someone who liked The Hobbit?",
    "What are the main causes of inflation?",
    "How do I politely decline an invitation to a party?",
    "I keep procrastinating on a big project at work. Every morning I promise myself I'll "
    "start, and then I end up answering emails all day. Any advice on breaking the cycle?",
    "What is machine learning, in simple terms?",
    "How many planets are in the solar system?",
    "What's a healthy breakfast I can make in five minutes?",
    "Why do cats purr?",
    "Help me write a short thank-you note to my neighbour who watered my garden while I "
    "was away for two weeks.",
    "What is the Pythagorean theorem?",
    "How can I improve my public speaking?",
    "Which is heavier, a kilogram of feathers or a kilogram of steel?",
    "What are some good ways to learn a new language as an adult?",
    "Describe the water cycle.",
    "My friend and I disagree about whether it is rude to check your phone during dinner. "
    "She says it's fine if the conversation is boring; I think it's always rude. Who is right?",
    "What causes earthquakes?",
    "Suggest a name for a small coffee shop by the sea.",
    "How do vaccines train the immune system?",
    "What is the best way to store fresh herbs?",
    "Can you explain what a black hole is?",
    "I'm planning a trip to Japan in the spring for ten days. I like food, quiet temples "
    "and walking, but I don't enjoy big crowds. How would you split the time between cities?",
    "What's the difference between weather and climate?",
    "How do I change a flat tyre on a bicycle?",
    "Why do we dream?",
    "What are three good habits for managing personal finances?",
    "Explain the rules of chess briefly.",
    "Thanks for your help earlier!",
    "How can I tell if an egg is still fresh?",
    "What is the role of the mitochondria in a cell?",
    "My teenage son spends most evenings gaming and his grades have slipped a little. "
    "How can I talk to him about it without starting an argument?",
    "Who painted the Mona Lisa?",
    "What are some simple stretches for lower back pain?",
    "How does a refrigerator keep food cold?",
    "Give me a short motivational quote for Monday morning.",
    "What's the healthiest way to lose a few kilos before summer?",
    "Explain what an API is to someone who doesn't code.",
    "What is the tallest mountain in Africa?",
    "I just adopted a rescue dog who is scared of men and hides under the bed whenever my "
    "partner comes home. What can we do to help her feel safe?",
    "How do bees make honey?",
    "What should I consider when choosing a laptop for university?",
    "Can you explain supply and demand?",
    "Tell me a short bedtime story about a brave little turtle.",
    "What is the boiling point of water at high altitude, and why is it different?",
    "How do I apologize to a friend I hurt?",
    "What are the benefits of walking every day?",
    "Why do leaves change colour in the fall?",
    "What's one thing you would tell someone starting their first job?",
]

# One plausible assistant reply per prompt (varied length), for activation capture.
RESPONSES = [
    "The capital of Australia is Canberra, not Sydney as many people assume.",
    "A rainbow forms when sunlight enters raindrops, bends, reflects off the back of the drop "
    "and bends again on the way out. Each colour bends by a slightly different amount, so the "
    "white light spreads into a band of colours.",
    "Keep a regular bedtime, avoid screens for an hour before sleep, and keep your bedroom "
    "cool, dark and quiet.",
    "Air molecules scatter short blue wavelengths of sunlight much more than long red ones, so "
    "blue light reaches your eyes from every direction of the sky.",
    "Expect questions about SQL, spreadsheets, a simple statistics problem and a time you "
    "explained data to someone. Tonight, review your résumé, prepare two short stories about "
    "projects you are proud of, practise one SQL query out loud, and then get a good night's "
    "sleep. Being rested matters more than one more hour of cramming.",
    "Bacteria are single-celled living organisms that can reproduce on their own. Viruses are "
    "much smaller and can only reproduce inside a host's cells. Antibiotics work on bacteria "
    "but not on viruses.",
    "Crimson leaves drifting / the old maple lets them go / wind carries the year",
    "Soften a chopped onion and two cloves of garlic in olive oil, add a can of crushed "
    "tomatoes, a pinch of salt and sugar, and simmer for twenty minutes. Finish with fresh "
    "basil.",
    "Yellow edges often mean overwatering or low light. A north-facing window gives little "
    "light, so the soil stays wet longer. Let the top few centimetres dry out before watering "
    "again, check that the pot drains well, and consider moving the plant somewhere brighter.",
    "Two young lovers from feuding families in Verona marry in secret. A chain of "
    "misunderstandings leads both of them to take their own lives, which finally reconciles "
    "their families.",
    "A good morning routine includes waking at a consistent time, drinking water, a little "
    "movement and a few quiet minutes to plan the day before checking your phone.",
    "It depends on how long you will stay. Buying usually pays off only if you stay five years "
    "or more, because of transaction costs. If you might move in three or four years, renting "
    "and investing your savings keeps you flexible. Compare the monthly cost of owning, "
    "including maintenance and insurance, with your rent before deciding.",
    "Octopuses have three hearts and blue blood.",
    "Compound interest means you earn interest on your interest. Each period the interest is "
    "added to the balance, so the next period's interest is calculated on a larger amount and "
    "the growth speeds up over time.",
    "Pack layers, a waterproof jacket, sturdy boots, a map, a first aid kit, snacks, plenty of "
    "water, a headlamp and a phone charger.",
    "Plants are like tiny chefs. They take in sunlight, water from the ground and air through "
    "their leaves, and they use the sunlight's energy to cook those into sugar, their food. "
    "As a bonus, they breathe out the oxygen we need.",
    "Hello! How can I help you today?",
    "You might enjoy The Name of the Wind by Patrick Rothfuss, or Earthsea by Ursula K. Le "
    "Guin, which has the same sense of adventure and wonder.",
    "Inflation is mainly caused by demand growing faster than supply, rising production costs "
    "such as energy and wages, and expectations that prices will keep going up.",
    "Thank them warmly for the invitation, say you can't make it, and wish them a great time. "
    "You don't need to give a detailed excuse.",
    "Try breaking the project into very small first steps and do one before opening your "
    "email. Block the first hour of the day in your calendar, close your inbox, and set a "
    "timer for twenty-five minutes. Starting is the hardest part; once you have momentum, it "
    "becomes much easier to continue. It can also help to tell a colleague what you plan to "
    "finish by Friday.",
    "Machine learning is a way of teaching computers to find patterns in examples, so they can "
    "make predictions without being given explicit rules.",
    "There are eight planets in the solar system.",
    "Greek yoghurt with berries and a handful of oats or nuts is quick, filling and healthy.",
    "Cats purr when they are content, but also to soothe themselves when stressed or in pain. "
    "The vibration may even help healing.",
    "Dear Sam, thank you so much for looking after my garden while I was away. Everything is "
    "thriving, and I really appreciate your kindness. Let me return the favour soon!",
    "In a right triangle, the square of the hypotenuse equals the sum of the squares of the "
    "other two sides: a² + b² = c².",
    "Practise often in low-stakes settings, know your opening lines by heart, slow down, and "
    "record yourself to spot habits you want to change.",
    "They weigh the same: a kilogram is a kilogram.",
    "Practise a little every day, speak with native speakers early, use spaced-repetition "
    "flashcards, and consume media you enjoy in the language.",
    "Water evaporates from oceans and lakes, condenses into clouds, falls as rain or snow, and "
    "flows back through rivers and groundwater to the sea, where the cycle begins again.",
    "You both have a point, but most etiquette guides side with you: checking your phone at "
    "dinner signals that the people in front of you matter less. If a conversation is boring, "
    "it is kinder to change the topic than to withdraw into a screen.",
    "Earthquakes happen when tectonic plates that are stuck together suddenly slip, releasing "
    "stored energy as seismic waves.",
    "How about 'Salt & Crema'?",
    "Vaccines show the immune system a harmless piece or version of a germ. The body learns to "
    "recognise it and makes memory cells, so it can respond quickly if the real germ appears.",
    "Treat soft herbs like flowers: trim the stems and stand them in a glass of water in the "
    "fridge. Wrap hardy herbs in a damp paper towel.",
    "A black hole is a region of space where gravity is so strong that nothing, not even light, "
    "can escape. They form when very massive stars collapse.",
    "With ten days, spend four in Kyoto for the temples and quiet morning walks, two in Nara "
    "or Koyasan for a calmer pace, and three in Tokyo for food, choosing neighbourhoods such as "
    "Yanaka rather than Shibuya. Keep one flexible day. Visit popular temples early in the "
    "morning to avoid crowds, especially during cherry blossom season.",
    "Weather is what the atmosphere does on a given day; climate is the average pattern over "
    "decades.",
    "Remove the wheel, lever the tyre off, find and patch the hole or replace the tube, refit "
    "the tyre, inflate it and put the wheel back on.",
    "Nobody knows for sure. Dreams may help us process emotions and consolidate memories, or "
    "they may be a by-product of the brain's activity during sleep.",
    "Track your spending, pay yourself first by saving automatically, and keep an emergency "
    "fund of three to six months of expenses.",
    "Each player has sixteen pieces, each moving in its own way. The goal is to checkmate the "
    "opposing king, meaning it is attacked and cannot escape.",
    "You're welcome! Happy to help anytime.",
    "Put it in a bowl of water: a fresh egg sinks and lies flat, while an old one floats.",
    "Mitochondria produce most of the cell's energy in the form of ATP, which is why they are "
    "called the powerhouse of the cell.",
    "Pick a calm moment, not right after a bad grade. Start by asking about the games he enjoys "
    "and show real interest. Then share your concern about school without blaming him, and ask "
    "him what he thinks would be a fair balance. Agreeing on a plan together, such as homework "
    "before gaming on weekdays, works better than imposing rules.",
    "Leonardo da Vinci painted the Mona Lisa.",
    "Try knee-to-chest stretches, the cat-cow pose, child's pose and gentle pelvic tilts. Stop "
    "if anything causes sharp pain.",
    "A refrigerator pumps a refrigerant that absorbs heat as it evaporates inside the fridge "
    "and releases that heat outside as it condenses at the back.",
    "Small steps every day add up to big results.",
    "Eat mostly whole foods, plenty of vegetables and protein, cut back on sugary drinks, sleep "
    "well and stay active. Aim for slow, steady progress rather than crash diets.",
    "An API is like a waiter in a restaurant: you tell it what you want, it takes the request "
    "to the kitchen, another program, and brings back the result.",
    "Mount Kilimanjaro in Tanzania is the tallest mountain in Africa.",
    "Give her time and space. Let your partner ignore her at first, then sit on the floor at a "
    "distance and toss her treats without making eye contact. Keep routines predictable and let "
    "her approach on her own terms. Over weeks, she will learn that he means good things. A "
    "positive-reinforcement trainer can help if progress stalls.",
    "Bees collect nectar from flowers, mix it with enzymes, store it in honeycomb and fan it "
    "with their wings until enough water evaporates to make honey.",
    "Think about battery life, weight, a comfortable keyboard, at least 16 GB of memory and any "
    "software your course requires.",
    "When demand rises and supply stays the same, prices go up; when supply rises and demand "
    "stays the same, prices fall.",
    "Once upon a time, a little turtle named Pip wanted to see the ocean. The path was long and "
    "the gulls were loud, but Pip kept going, one small step at a time. At last the waves "
    "touched his shell, and he swam into the moonlight, proud and brave. The end.",
    "Water boils at a lower temperature at high altitude, about 90 °C at 3,000 metres, because "
    "the air pressure is lower, so water molecules escape into vapour more easily.",
    "Say clearly that you are sorry, name what you did, listen to how it affected them and "
    "don't make excuses.",
    "Daily walking improves heart health, mood, sleep and joint mobility, and it helps maintain "
    "a healthy weight.",
    "As days get shorter, trees stop making green chlorophyll, revealing yellow and orange "
    "pigments that were there all along.",
    "Ask questions early and often; nobody expects you to know everything yet.",
]

assert len(PROMPTS) == len(RESPONSES) == 64
