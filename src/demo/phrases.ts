// Conversation snippets for the demo database: short exchanges that alternate speakers, with slots filled
// from small word lists so a long history does not repeat verbatim too often. Written for this project.
import type { Random } from "./random.js";

/** One exchange: lines alternate between the two sides, starting with whoever opens. */
export const exchanges: readonly (readonly string[])[] = [
  ["Are you around tonight?", "Yeah after 7", "{food}?", "Always 😄"],
  ["Did you see the game last night?", "Unreal ending", "I screamed at the TV"],
  ["Running a few minutes late, sorry!", "No worries, grabbed us a table"],
  ["Can you pick up {grocery} on the way home?", "Sure, anything else?", "Maybe {grocery} too", "👍"],
  ["Happy birthday!! 🎂", "Thank you!! ❤️", "Big plans?", "Dinner at {place} with the fam"],
  ["What time is the thing on {day}?", "{time} I think", "Perfect, see you there"],
  ["Just landed ✈️", "Welcome back! How was the flight?", "Long. Need coffee", "Coffee at {place} tomorrow?"],
  ["Have you watched {show} yet?", "Halfway through season 2", "No spoilers but episode 6 😳"],
  ["Lunch {day}?", "Can't {day}, how about {day}?", "Works for me", "{place} at {time}?", "Done"],
  ["Thanks again for dinner", "Anytime! That was fun", "Next one's on me"],
  ["Is the dog OK?", "Yep, vet said it was just something he ate", "Phew"],
  ["Did you send the invoice?", "Sending it now", "Got it, thanks"],
  ["Heading out now", "Drive safe"],
  ["Good morning ☀️", "Morning! Sleep well?", "Like a rock"],
  ["Can you call me when you get a sec?", "Give me 10 min", "ok"],
  ["I'm outside", "Coming down!"],
  ["Where did you park?", "Level 3 by the elevators"],
  ["Reminder: recycling goes out tonight", "On it"],
  [
    "How did the interview go?",
    "Pretty well I think!",
    "Fingers crossed 🤞",
    "They said they'd call by {day}",
  ],
  ["Want to split a {food} order?", "Yes please", "Ordering now, 35 min"],
  ["Can I borrow your ladder this weekend?", "Sure, it's in the garage", "You're the best"],
  ["Did mom call you?", "Yeah, she wants to do dinner {day}", "I can do {time}"],
  ["Traffic is terrible on 101", "Take the back roads", "Good call"],
  ["Miss you!", "Miss you too ❤️", "Let's plan a visit soon"],
  ["Meeting moved to {time}", "Thanks for the heads up"],
  ["Who's bringing what on {day}?", "I'll bring {food}", "I've got drinks", "Chips and salsa here"],
  ["Is it supposed to rain tomorrow?", "Looks like it clears up by noon"],
  ["Look at this sunset 🌅", "Wow where is that?", "From the pier near {place}"],
  ["Got the tickets!", "No way!! Which night?", "{day}, doors at {time}", "I'm so excited"],
  [
    "Quick question about the lease",
    "Sure, what's up?",
    "Is the deposit refundable if we leave early?",
    "I think so, I'll check",
  ],
  ["Can you send me that recipe?", "Which one, the curry?", "Yes! It was so good"],
  ["You up?", "Unfortunately", "Same, can't sleep"],
  ["Hope you feel better soon", "Thanks, resting today"],
  ["Let me know when you're home", "Home!", "👍"],
  ["Did you finish the report?", "Almost, need 20 more minutes", "No rush"],
  ["Kids have a half day {day}", "Ugh, forgot about that", "I can pick them up at {time}"],
  ["New phone who dis", "lol nice try", "Seriously though, this is my new number"],
  ["Can we push to {time}?", "Sure"],
  ["Are we still on for {place}?", "Yep! See you there", "Save me a seat"],
  ["Just finished the hike, legs are dead", "Which trail?", "The ridge loop, 9 miles", "Respect 🥾"],
  ["Did you feed the cat?", "Yes, twice apparently", "She's a liar"],
  ["The package came", "Finally!", "Box was soaked but it's fine"],
  ["Congrats on the new job!!", "Thank you! Still sinking in", "Drinks to celebrate?"],
  ["Where should we go for vacation?", "Somewhere warm", "Mexico?", "Yes. Booking it"],
  ["How much do I owe you for tickets?", "$48", "Sent!"],
  ["Forgot my keys at your place", "I'll drop them by tomorrow", "Lifesaver"],
  ["Do you have the wifi password?", "It's on the fridge"],
  ["Power's out here", "Here too", "Candles and board games it is"],
  ["Book club {day}?", "Haven't finished the book 😬", "Nobody has, come anyway"],
  ["Costco run?", "Need {grocery}", "Adding it to the list"],
  ["Happy Friday!", "Finally", "Any plans?", "Couch and {show}"],
  ["Can you water the plants while I'm away?", "Of course", "Key is under the mat"],
  ["The recital is at {time} {day}", "We'll be there!"],
  ["Did you get my voicemail?", "Just listened, call you after work"],
  ["Thinking of you today", "That means a lot ❤️"],
  ["Coffee?", "Desperately", "Meet at {place} in 15"],
];

/** One-off lines that fit anywhere. */
export const singles: readonly string[] = [
  "On my way",
  "Sounds good",
  "Haha yes",
  "lol",
  "Thank you!",
  "Love that",
  "Ok!",
  "See you soon",
  "That's hilarious",
  "Call you later",
  "omw",
  "Yes!!",
  "I'll let you know",
  "Totally",
  "Good night 😴",
];

const slots: Record<string, readonly string[]> = {
  food: ["tacos", "sushi", "pizza", "pho", "burgers", "ramen", "thai", "dumplings", "bbq"],
  grocery: ["milk", "eggs", "bread", "coffee beans", "bananas", "oat milk", "paper towels", "avocados"],
  place: [
    "Luigi's",
    "the Blue Door",
    "Blue Bottle",
    "the farmers market",
    "Golden Gate Park",
    "Mama's Kitchen",
  ],
  day: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "tomorrow"],
  time: ["6:30", "7", "noon", "10am", "5:45", "8pm", "3"],
  show: [
    "The Bear",
    "Severance",
    "Slow Horses",
    "Shrinking",
    "the new Star Wars show",
    "Great British Bake Off",
  ],
};

export function fillSlots(line: string, random: Random): string {
  return line.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const options = slots[name];
    return options ? random.pick(options) : whole;
  });
}

/** Exactly `length` lines (at least 1): the start of one exchange, topped up with one-off lines. */
export function conversation(random: Random, length: number): string[] {
  const exchange = random.pick(exchanges);
  const lines = exchange.slice(0, Math.max(1, length)).map((line) => fillSlots(line, random));
  while (lines.length < length) lines.push(random.pick(singles));
  return lines;
}
