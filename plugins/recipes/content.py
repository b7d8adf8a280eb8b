"""Seeded text pools of the built-in tasks: short learner sentences (PSWL, PSSL), the Speech
Commands keywords (SCR), SLURP-like requests (IP, EE) and questions with exact answers (AQA). Each
pool splits its items once into train and eval (:class:`llaso_core.data.synth.text.Pool`)."""

from __future__ import annotations

import random

import attrs

from llaso_core.data.synth.text import Pool, choice


# short sentences for pronunciation scoring (no word contains "accuracy", "proso" or "fluency",
# which the PSSL parser looks for)
NAMES = ("kate", "tom", "anna", "peter", "lucy", "mark", "emma", "sarah", "jack", "mary", "ben", "nina")
LEARNER_VERBS = ("likes", "wants", "sees", "finds", "needs", "takes", "makes", "paints", "reads", "sells")
LEARNER_ADJECTIVES = ("", "", "red", "fresh", "small", "green", "old", "sweet", "warm")
LEARNER_OBJECTS = ("apples", "books", "music", "flowers", "tea", "bread", "chairs", "maps", "birds",
                   "boats", "rice", "shoes", "letters", "cakes")


def _learner_sentence(rng: random.Random) -> str:
    words = [choice(rng, NAMES), choice(rng, LEARNER_VERBS), choice(rng, LEARNER_ADJECTIVES),
             choice(rng, LEARNER_OBJECTS)]
    return " ".join(w for w in words if w)


#: three- or four-word sentences ("kate likes fresh apples")
LEARNER_SENTENCES: Pool[str] = Pool(_learner_sentence)

#: the Speech Commands keywords
COMMAND_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "zero", "one",
                 "two", "three", "four", "five", "six", "seven", "eight", "nine", "bed", "bird", "cat",
                 "dog", "happy", "house", "marvin", "sheila", "tree", "wow", "backward", "forward",
                 "follow", "learn", "visual")


# -- SLURP-like requests ---------------------------------------------------------------------------
SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "time": ("seven am", "six thirty", "eight pm", "noon", "nine am", "five pm", "ten thirty pm",
             "six am", "midnight", "quarter past seven"),
    "date": ("tomorrow", "today", "next week", "this weekend", "next monday", "this friday", "tonight",
             "saturday morning"),
    "place_name": ("london", "paris", "new york", "tokyo", "berlin", "boston", "madrid", "sydney",
                   "chicago", "dublin", "rome", "seattle"),
    "weather_descriptor": ("rain", "snow", "hail", "freeze"),
    "music_genre": ("jazz", "rock", "classical", "pop", "blues", "country", "reggae", "hip hop"),
    "artist_name": ("the beatles", "adele", "queen", "madonna", "mozart", "bob marley", "elvis",
                    "taylor swift"),
    "radio_name": ("bbc radio one", "jazz fm", "classic fm", "radio paradise", "kiss fm", "radio two",
                   "smooth radio", "capital fm"),
    "event_name": ("dentist appointment", "team meeting", "yoga class", "doctor appointment",
                   "birthday party", "lunch with mum", "piano lesson"),
    "house_place": ("kitchen", "bedroom", "living room", "bathroom", "hallway", "garage", "office"),
    "color_type": ("red", "blue", "green", "purple", "warm white", "orange", "pink"),
    "device_type": ("robot vacuum", "vacuum cleaner"),
    "person": ("john", "sarah", "my boss", "mum", "peter", "anna", "david"),
    "food_type": ("pizza", "sushi", "a burger", "pad thai", "noodles", "curry", "salad", "tacos"),
    "business_name": ("dominos", "pizza hut", "the corner cafe", "burger king", "wok express"),
    "news_topic": ("sports", "politics", "technology", "business", "science", "football"),
    "list_name": ("shopping", "todo", "grocery", "packing"),
    "list_item": ("milk", "eggs", "bread", "batteries", "coffee", "apples", "toothpaste"),
}

#: intent (SLURP scenario_action, underscores as spaces) -> request templates with {slot}s
INTENTS: dict[str, tuple[str, ...]] = {
    "alarm set": ("wake me up at {time}", "set an alarm for {time}", "set an alarm for {time} {date}"),
    "alarm query": ("what alarms do i have {date}", "is there an alarm for {time}"),
    "alarm remove": ("cancel my alarm for {time}", "remove the {time} alarm {date}"),
    "weather query": ("what is the weather like in {place_name} {date}", "will it {weather_descriptor} {date}",
                      "do i need an umbrella in {place_name}"),
    "play music": ("play some {music_genre} music", "play songs by {artist_name}",
                   "put on some {music_genre} by {artist_name}"),
    "play radio": ("turn on {radio_name}", "play the radio station {radio_name}", "i want to listen to {radio_name}"),
    "calendar set": ("remind me about the {event_name} {date} at {time}",
                     "add a {event_name} to my calendar for {date}"),
    "calendar query": ("what is on my calendar {date}", "when is my {event_name}"),
    "iot hue lightoff": ("turn off the lights in the {house_place}", "switch the {house_place} lights off"),
    "iot hue lightchange": ("make the lights {color_type}", "change the {house_place} lights to {color_type}"),
    "iot cleaning": ("start the {device_type}", "turn on the {device_type} in the {house_place}"),
    "email sendemail": ("send an email to {person} about the {event_name}", "email {person} that i am running late"),
    "transport ticket": ("book a train ticket to {place_name} for {date}", "buy a bus ticket to {place_name}"),
    "takeaway order": ("order {food_type} from {business_name}", "i want to order {food_type} {date}"),
    "datetime query": ("what time is it in {place_name}", "what is the time in {place_name} right now"),
    "news query": ("what is the latest news about {news_topic}", "tell me the {news_topic} news {date}"),
    "cooking recipe": ("how do i make {food_type}", "give me a recipe for {food_type}"),
    "lists createoradd": ("add {list_item} to my {list_name} list", "put {list_item} on the {list_name} list"),
}


@attrs.frozen
class Request:
    """A spoken request with its intent and ``(slot type, value)`` entities in spoken order."""

    text: str
    intent: str
    entities: tuple[tuple[str, str], ...]

    @property
    def entity_target(self) -> str:
        """``alarm set [time : seven am]``: the intent and then each entity."""
        return " ".join([self.intent] + [f"[{kind} : {value}]" for kind, value in self.entities])


def _request(rng: random.Random) -> Request:
    intent = choice(rng, sorted(INTENTS))
    template = choice(rng, INTENTS[intent])
    entities: list[tuple[str, str]] = []
    text = template
    while "{" in text:
        start = text.index("{")
        kind = text[start + 1:text.index("}", start)]
        value = choice(rng, SLOT_VALUES[kind])
        entities.append((kind, value))
        text = text.replace("{" + kind + "}", value, 1)
    return Request(text, intent, tuple(entities))


REQUESTS: Pool[Request] = Pool(_request, key=lambda r: r.text)


# -- questions with exact answers ------------------------------------------------------------------
@attrs.frozen
class Question:
    text: str  # with a question mark
    answer: str
    kind: str


NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                "nineteen", "twenty")
COLOURS = {"the sky on a clear day": "blue", "grass": "green", "snow": "white", "coal": "black",
           "a ripe tomato": "red", "a banana": "yellow", "a lemon": "yellow", "chocolate": "brown",
           "a carrot": "orange", "milk": "white", "a strawberry": "red", "a lime": "green",
           "an aubergine": "purple", "a flamingo": "pink", "a polar bear": "white", "a crow": "black"}
OPPOSITES = (("hot", "cold"), ("big", "small"), ("fast", "slow"), ("up", "down"), ("happy", "sad"),
             ("light", "dark"), ("open", "closed"), ("early", "late"), ("full", "empty"), ("hard", "soft"),
             ("old", "new"), ("rich", "poor"), ("wet", "dry"), ("loud", "quiet"), ("strong", "weak"),
             ("high", "low"), ("long", "short"), ("thick", "thin"), ("left", "right"), ("win", "lose"))
CAPITALS = {"france": "paris", "germany": "berlin", "italy": "rome", "spain": "madrid", "japan": "tokyo",
            "egypt": "cairo", "canada": "ottawa", "australia": "canberra", "russia": "moscow",
            "china": "beijing", "india": "new delhi", "kenya": "nairobi", "norway": "oslo",
            "sweden": "stockholm", "portugal": "lisbon", "greece": "athens", "ireland": "dublin",
            "poland": "warsaw", "austria": "vienna", "peru": "lima", "chile": "santiago",
            "thailand": "bangkok", "turkey": "ankara", "mexico": "mexico city", "argentina": "buenos aires"}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
LEGS = {"a spider": "eight", "a dog": "four", "a bird": "two", "an ant": "six", "a horse": "four",
        "a chicken": "two", "a beetle": "six", "an octopus (arms)": "eight"}
SOUNDS = {"a cow": "moo", "a dog": "woof", "a cat": "meow", "a sheep": "baa", "a duck": "quack",
          "an owl": "hoot", "a pig": "oink", "a snake": "hiss"}


def _arithmetic(rng: random.Random) -> Question:
    a, b = rng.randint(1, 12), rng.randint(1, 12)
    op = choice(rng, ("plus", "minus", "times"))
    if op == "minus" and b > a:
        a, b = b, a
    value = {"plus": a + b, "minus": a - b, "times": a * b}[op]
    return Question(f"what is {a} {op} {b}?", str(value), "arithmetic")


def _colour(rng: random.Random) -> Question:
    thing = choice(rng, sorted(COLOURS))
    return Question(f"what colour is {thing}?", COLOURS[thing], "colour")


def _opposite(rng: random.Random) -> Question:
    pair = choice(rng, OPPOSITES)
    word, answer = pair if rng.random() < 0.5 else pair[::-1]
    return Question(f"what is the opposite of {word}?", answer, "opposite")


def _capital(rng: random.Random) -> Question:
    country = choice(rng, sorted(CAPITALS))
    return Question(f"what is the capital of {country}?", CAPITALS[country], "capital")


def _sequence(rng: random.Random) -> Question:
    names, kind = (DAYS, "day") if rng.random() < 0.5 else (MONTHS, "month")
    i = rng.randrange(len(names))
    if rng.random() < 0.5:
        return Question(f"which {kind} comes after {names[i]}?", names[(i + 1) % len(names)], "sequence")
    return Question(f"which {kind} comes before {names[i]}?", names[i - 1], "sequence")


def _number_after(rng: random.Random) -> Question:
    i = rng.randrange(len(NUMBER_WORDS) - 1)
    return Question(f"what number comes after {NUMBER_WORDS[i]}?", NUMBER_WORDS[i + 1], "counting")


def _legs(rng: random.Random) -> Question:
    animal = choice(rng, sorted(k for k in LEGS if "(" not in k))
    return Question(f"how many legs does {animal} have?", LEGS[animal], "legs")


def _sound(rng: random.Random) -> Question:
    animal = choice(rng, sorted(SOUNDS))
    return Question(f"what sound does {animal} make?", SOUNDS[animal], "animal sound")


QUESTION_KINDS = (_arithmetic, _arithmetic, _colour, _opposite, _capital, _sequence, _number_after,
                  _legs, _sound)


def _question(rng: random.Random) -> Question:
    return choice(rng, QUESTION_KINDS)(rng)


QUESTIONS: Pool[Question] = Pool(_question, key=lambda q: q.text)
